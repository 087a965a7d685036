-- What percentage of users said they already had certain benefits?
-- Screen x benefit grain joined by screen_id to the filtered screens; scalar-subquery denominator.
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
)
SELECT
    b.benefit_display_name AS "Benefit",
    count(DISTINCT b.screen_id) AS "# of Screeners",
    round(100.0 * count(DISTINCT b.screen_id) / nullif((SELECT count(*) FROM screens), 0), 1)
        AS "% of Screeners"
FROM analytics.mart_current_benefits AS b
INNER JOIN screens ON b.screen_id = screens.id
GROUP BY b.benefit_display_name
ORDER BY count(DISTINCT b.screen_id) DESC, b.benefit_display_name
