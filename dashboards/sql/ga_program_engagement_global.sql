-- Program Engagement (Top 15) (GA4): screenings that opened a program's details over those shown
-- it, among programs shown to at least 20 screenings (per program and state).
WITH per AS (
    SELECT
        concat(program_name, ' (', upper(screener_state), ')') AS program, screener_state,
        sum(if(interaction_type = 'shown', screenings_with_interaction, 0)) AS shown,
        sum(if(interaction_type = 'more_info', screenings_with_interaction, 0)) AS details,
        sum(if(interaction_type = 'apply', screenings_with_interaction, 0)) AS applied
    FROM __BQ__.mart_screener_program_interactions
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY program_id, program_name, screener_state
)
SELECT program AS `Program`, round(100 * details / shown, 1) AS `Viewed-Details Rate %`
FROM per
WHERE shown >= 20
ORDER BY `Viewed-Details Rate %` DESC, program
LIMIT 15
