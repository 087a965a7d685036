-- % of Results Viewers (GA4): screenings that opened the Additional Resources tab over results viewers.
WITH viewers AS (
    SELECT count(*) AS n
    FROM __BQ__.mart_screener_results_revisits
    WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
t AS (
    SELECT count(DISTINCT screener_uid) AS n
    FROM __BQ__.mart_screener_resource_engagement_by_screening
    WHERE metric = 'tab_open' AND dimension = 'additional_resources'
        AND __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
)
SELECT round(100 * t.n / nullif(viewers.n, 0), 1) AS `% of Results Viewers`, t.n AS `Screenings`
FROM viewers
CROSS JOIN t
