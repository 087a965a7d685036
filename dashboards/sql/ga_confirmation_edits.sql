-- Confirmation Edits by Section (GA4): screenings that edited a section from the confirmation
-- page over sessions that viewed it.
WITH viewers AS (
    SELECT count(DISTINCT session_key) AS n
    FROM __BQ__.mart_screener_step_facts
    WHERE screener_step_name = 'confirm-information' AND viewed
        AND __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
edits AS (
    SELECT section_label, sum(distinct_screenings) AS screenings
    FROM __BQ__.mart_screener_confirmation_edits
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY section_label
)
SELECT
    edits.section_label AS `Section`,
    round(100 * edits.screenings / nullif(viewers.n, 0), 1) AS `% of Confirm Viewers`,
    edits.screenings AS `Screenings`
FROM edits
CROSS JOIN viewers
ORDER BY `Screenings` DESC, `Section`
