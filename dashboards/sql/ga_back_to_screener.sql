-- % of Results Viewers (GA4): screenings that clicked Back to Screener on the results page over results viewers
-- (capped at 100%).
WITH viewers AS (
    SELECT count(*) AS n
    FROM __BQ__.mart_screener_results_revisits
    WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
t AS (
    SELECT coalesce(sum(screenings_went_back), 0) AS n
    FROM __BQ__.mart_screener_results_back
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
)
SELECT least(round(100 * t.n / nullif(viewers.n, 0), 1), 100) AS `% of Results Viewers`, t.n AS `Went Back`
FROM viewers
CROSS JOIN t
