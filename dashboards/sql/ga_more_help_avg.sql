-- More Help? — Avg Clicks (Among Users) (GA4): More Help? clicks per screening that clicked it.
SELECT round(sum(total_clicks) / nullif(sum(distinct_screenings), 0), 1) AS `Average`
FROM __BQ__.mart_screener_help
WHERE metric = 'get_help_click' AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
