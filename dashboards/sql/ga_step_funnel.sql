-- Form Step Reached (GA4): sessions (by last-active day) counted at every ladder rank up to
-- their furthest one; percent of the sessions at rank 1 (Language). Empty ranks are hidden.
WITH s AS (
    SELECT furthest_step_rank
    FROM __BQ__.mart_screener_furthest_step
    WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
ranks AS (
    SELECT ladder.funnel_rank, ladder.step_label, countif(s.furthest_step_rank >= ladder.funnel_rank) AS sessions
    FROM __BQ__.mart_screener_step_ladder AS ladder
    CROSS JOIN s
    WHERE ladder.funnel_rank BETWEEN 1 AND 12
    GROUP BY ladder.funnel_rank, ladder.step_label
)
SELECT
    step_label AS `Step`,
    round(100 * sessions / nullif((SELECT max(sessions) FROM ranks WHERE funnel_rank = 1), 0), 1)
        AS `% of Started`,
    sessions AS `Sessions`
FROM ranks
WHERE sessions > 0
ORDER BY funnel_rank
