-- Additional Resources — Avg Opens (Among Users) (GA4): tab opens per screening that opened it.
SELECT round(sum(total_clicks) / nullif(sum(distinct_screenings), 0), 1) AS `Average`
FROM __BQ__.mart_screener_resource_engagement
WHERE metric = 'tab_open' AND dimension = 'additional_resources' AND __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
