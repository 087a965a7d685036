-- % Eligible for 1+ Program (GA4): results viewers less the screenings shown no eligible
-- program, over the results viewers.
WITH viewers AS (
    SELECT count(*) AS n
    FROM __BQ__.mart_screener_results_revisits
    WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
none_eligible AS (
    SELECT coalesce(sum(screenings_none_eligible), 0) AS n
    FROM __BQ__.mart_screener_results_outcomes
    WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
)
SELECT round(100 * greatest(viewers.n - none_eligible.n, 0) / nullif(viewers.n, 0), 1)
    AS `% Eligible for 1+ Program`
FROM viewers
CROSS JOIN none_eligible
