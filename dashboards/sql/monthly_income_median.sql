-- Monthly Income (Median): screens without income rows (NULL monthly_income) are ignored.
SELECT
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY monthly_income))::numeric, 0)
        AS "Monthly Income (Median)"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
