-- Monthly Expenses (Median): screens without expense rows (NULL monthly_expenses) are ignored.
SELECT
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY monthly_expenses))::numeric, 0)
        AS "Monthly Expenses (Median)"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
