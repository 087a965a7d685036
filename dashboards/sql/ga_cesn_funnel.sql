-- Form Step Reached, CESN ladder (GA4): CESN sessions counted at every combined-ladder rank up
-- to their furthest one; percent of rank 0 (Started Screener). The mart holds CESN only.
WITH s AS (
    SELECT furthest_step_rank
    FROM __BQ__.mart_screener_cesn_funnel
    WHERE event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
ranks AS (
    SELECT ladder.funnel_rank, ladder.step_label, countif(s.furthest_step_rank >= ladder.funnel_rank) AS sessions
    FROM __BQ__.mart_screener_cesn_combined_ladder AS ladder
    CROSS JOIN s
    GROUP BY ladder.funnel_rank, ladder.step_label
)
SELECT
    step_label AS `Step`,
    round(100 * sessions / nullif((SELECT max(sessions) FROM ranks WHERE funnel_rank = 0), 0), 1)
        AS `% of Started`,
    sessions AS `Sessions`
FROM ranks
WHERE sessions > 0
ORDER BY funnel_rank
