-- % Young Adults: of the household members with a known age, the share aged 19 to 24.
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
)
SELECT
    round(count(*) FILTER (WHERE m.age BETWEEN 19 AND 24)::numeric / nullif(count(*), 0), 4)
        AS "% Young Adults"
FROM analytics.mart_householdmembers AS m
INNER JOIN screens ON m.screen_id = screens.id
WHERE m.age IS NOT NULL
