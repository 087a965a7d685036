-- What is the breakdown of household sizes?
SELECT
    CASE WHEN household_size >= 8 THEN '8+' ELSE household_size::text END AS "Household Size",
    round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS "% of Total"
FROM analytics.mart_screener_data
WHERE household_size IS NOT NULL
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
GROUP BY 1
ORDER BY min(household_size)
