-- Annual Income (Median): 12 x monthly income; screens without income rows (NULL) are ignored.
SELECT
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY monthly_income * 12))::numeric, 0)
        AS "Annual Income (Median)"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
