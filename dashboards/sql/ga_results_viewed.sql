-- Results Viewed (GA4): screenings whose first results load falls in the window.
SELECT count(*) AS `Results Viewed`
FROM __BQ__.mart_screener_results_revisits
WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
