-- What benefits did people qualify for? Per program, CPAL screeners eligible for it;
-- share of all CPAL screeners (0-1).
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE partner IN ('Child Poverty Action Lab (CPAL)')
        [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
)
SELECT
    min(b.benefit_display_name) AS "Benefit Name",
    count(DISTINCT b.screen_id) AS "# of Screeners",
    count(DISTINCT b.screen_id)::numeric / nullif((SELECT count(*) FROM screens), 0)
        AS "% of Screeners"
FROM analytics.mart_qualified_benefits AS b
INNER JOIN screens ON b.screen_id = screens.id
GROUP BY b.benefit_name
ORDER BY count(DISTINCT b.screen_id) DESC, min(b.benefit_display_name)
