-- What are the ages of the heads of household? Screens are filtered on mart_screener_data,
-- members joined by the indexed screen_id.
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
)
SELECT
    CASE
        WHEN m.age <= 18 THEN '0-18'
        WHEN m.age <= 24 THEN '19-24'
        WHEN m.age <= 44 THEN '25-44'
        WHEN m.age <= 64 THEN '45-64'
        ELSE '65+'
    END AS "Age Group",
    round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS "% of Total"
FROM analytics.mart_householdmembers AS m
INNER JOIN screens ON m.screen_id = screens.id
WHERE m.relationship = 'headOfHousehold' AND m.age IS NOT NULL
GROUP BY 1
ORDER BY min(m.age)
