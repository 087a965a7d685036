-- More Help Resource Clicks (GA4): per More Help resource, screenings that clicked it and clicks.
SELECT dimension AS `Resource`, sum(distinct_screenings) AS `Distinct Screeners`, sum(total_clicks) AS `Total Clicks`
FROM __BQ__.mart_screener_help
WHERE metric = 'more_help_resource_click' AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
GROUP BY dimension
ORDER BY `Total Clicks` DESC, `Resource`
