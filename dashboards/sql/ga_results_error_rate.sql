-- Results Error Rate % (GA4): screenings whose results errored over those that errored or loaded.
SELECT round(100 * sum(screenings_error) / nullif(sum(screenings_error) + sum(screenings_loaded), 0), 1)
    AS `Results Error Rate %`
FROM __BQ__.mart_screener_results_outcomes
WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
