-- What percentage of completed screeners qualified for each benefit?
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
)
SELECT
    q.benefit_display_name AS "Benefit",
    count(DISTINCT q.screen_id) AS "# of Screeners",
    round(100.0 * count(DISTINCT q.screen_id) / nullif((SELECT count(*) FROM screens), 0), 1)
        AS "% of Screeners",
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY q.annual_value))::numeric, 0)
        AS "Median Annual Value"
FROM analytics.mart_qualified_benefits AS q
INNER JOIN screens ON q.screen_id = screens.id
GROUP BY q.benefit_display_name
ORDER BY count(DISTINCT q.screen_id) DESC, q.benefit_display_name
