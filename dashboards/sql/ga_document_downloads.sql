-- Document Downloads (GA4): per program document, distinct screenings shown it and that downloaded
-- it, and the download rate (capped at 100%).
WITH per AS (
    SELECT
        document_name, program_name,
        count(DISTINCT if(interaction_type = 'document_shown', screener_uid, NULL)) AS shown,
        count(DISTINCT if(interaction_type = 'document_download', screener_uid, NULL)) AS downloaded
    FROM __BQ__.mart_screener_program_interactions_by_screening
    WHERE interaction_type IN ('document_shown', 'document_download') AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY document_name, program_name
)
SELECT
    document_name AS `Document`,
    program_name AS `Program`,
    shown AS `Shown`,
    downloaded AS `Downloaded`,
    least(round(100 * downloaded / nullif(shown, 0), 1), 100) AS `Download Rate %`
FROM per
ORDER BY downloaded DESC, shown DESC, `Document`
