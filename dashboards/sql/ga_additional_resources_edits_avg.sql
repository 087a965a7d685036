-- Additional Resources Edited — Avg Edits (Among Users) (GA4): edit-link clicks per session that clicked it.
SELECT round(sum(total_clicks) / nullif(sum(screenings), 0), 1) AS `Average`
FROM __BQ__.mart_screener_link_clicks
WHERE link_label = 'Additional Resources — Edit Step' AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
