-- What percentage of users said they already had certain benefits? Benefits the screeners said
-- they already receive: per benefit (grouped by its slug, labelled with its display name),
-- screens among the filtered screeners that have it; share = 0-1 fraction of all filtered
-- screeners.
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
)
SELECT
    min(b.benefit_display_name) AS "Benefit Name",
    count(DISTINCT b.screen_id) AS "# of Screeners",
    count(DISTINCT b.screen_id)::numeric / nullif((SELECT count(*) FROM screens), 0)
        AS "% of Screeners"
FROM analytics.mart_current_benefits AS b
INNER JOIN screens ON b.screen_id = screens.id
GROUP BY b.benefit_name
ORDER BY count(DISTINCT b.screen_id) DESC, min(b.benefit_display_name)
