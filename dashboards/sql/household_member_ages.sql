-- What are the ages of all household members? Members with a known age; integer bins
-- <5, 5-18, 19-24, 25-44, 45-64, 65+; share = 0-1 fraction of those members.
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
)
SELECT
    CASE
        WHEN m.age < 5 THEN '<5'
        WHEN m.age <= 18 THEN '5-18'
        WHEN m.age <= 24 THEN '19-24'
        WHEN m.age <= 44 THEN '25-44'
        WHEN m.age <= 64 THEN '45-64'
        ELSE '65+'
    END AS "Age Group",
    count(*)::numeric / sum(count(*)) OVER () AS "% of Total"
FROM analytics.mart_householdmembers AS m
INNER JOIN screens ON m.screen_id = screens.id
WHERE m.age IS NOT NULL
GROUP BY 1
ORDER BY min(m.age)
