-- % of Results Viewers (GA4): screenings that used a results filter over results viewers (not capped).
WITH viewers AS (
    SELECT count(*) AS n
    FROM __BQ__.mart_screener_results_revisits
    WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
t AS (
    SELECT coalesce(sum(screenings_engaged), 0) AS n
    FROM __BQ__.mart_screener_filter_usage
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
)
SELECT round(100 * t.n / nullif(viewers.n, 0), 1) AS `% of Results Viewers`, t.n AS `Filtered Screenings`
FROM viewers
CROSS JOIN t
