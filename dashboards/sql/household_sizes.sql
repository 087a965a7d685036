-- What is the breakdown of household sizes? "1" ... "7", "8+"; screens without a size form
-- their own (NULL) group and stay in the denominator. Share = 0-1 fraction.
SELECT
    CASE WHEN household_size >= 8 THEN '8+' ELSE household_size::text END AS "Household Size",
    count(*)::numeric / sum(count(*)) OVER () AS "% of Total"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
GROUP BY 1
ORDER BY min(household_size) NULLS LAST
