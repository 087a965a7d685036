-- Monthly Expenses (Median)
SELECT
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY monthly_expenses))::numeric, 0)
        AS "Monthly Expenses (Median)"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
