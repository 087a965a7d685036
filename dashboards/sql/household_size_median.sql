-- Household Size (Median)
SELECT
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY household_size))::numeric, 1)
        AS "Household Size (Median)"
FROM analytics.mart_screener_data
WHERE household_size IS NOT NULL
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
