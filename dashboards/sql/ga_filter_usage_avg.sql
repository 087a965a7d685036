-- Citizenship Filter — Avg Uses (Among Users) (GA4): citizenship filter uses per screening that used it.
SELECT round(sum(total_engagements) / nullif(sum(screenings_engaged), 0), 1) AS `Average`
FROM __BQ__.mart_screener_filter_usage
WHERE filter_type = 'citizenship' AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
