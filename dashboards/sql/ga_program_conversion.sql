-- Program Conversion Rates (GA4): shown -> details -> applied per program, programs
-- shown to at least 5 screenings.
WITH per AS (
    SELECT
        program_name AS program,
        sum(if(interaction_type = 'shown', screenings_with_interaction, 0)) AS shown,
        sum(if(interaction_type = 'more_info', screenings_with_interaction, 0)) AS details,
        sum(if(interaction_type = 'apply', screenings_with_interaction, 0)) AS applied
    FROM __BQ__.mart_screener_program_interactions
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY program_id, program_name
)
SELECT
    program AS `Program`,
    shown AS `Shown`,
    details AS `Viewed Details`,
    applied AS `Applied`,
    round(100 * details / shown, 1) AS `Shown -> Details %`,
    round(100 * applied / nullif(details, 0), 1) AS `Details -> Applied %`,
    round(100 * applied / shown, 1) AS `Shown -> Applied %`
FROM per
WHERE shown >= 5
ORDER BY `Shown -> Details %` DESC, program
