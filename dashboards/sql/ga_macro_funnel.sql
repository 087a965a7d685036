-- Screener Conversion Funnel (GA4): screenings first seen in the window and how many of them
-- reached each cumulative stage (saw results / viewed details / applied).
WITH s AS (
    SELECT saw_results, viewed_details, applied
    FROM __BQ__.mart_screener_screening_funnel
    WHERE __STATE_FILTER_NOT_CESN__ AND first_event_date >= __GA_EPOCH__
        [[AND first_event_date >= CAST({{date_from}} AS DATE)]]
        [[AND first_event_date <= CAST({{date_to}} AS DATE)]]
),
stages AS (
    SELECT 1 AS step, 'Screeners Created' AS stage, count(*) AS screenings FROM s
    UNION ALL SELECT 2, 'Saw Results', countif(saw_results) FROM s
    UNION ALL SELECT 3, 'Viewed Details', countif(viewed_details) FROM s
    UNION ALL SELECT 4, 'Clicked Apply', countif(applied) FROM s
)
SELECT stage AS `Stage`, screenings AS `Screenings`
FROM stages
ORDER BY step
