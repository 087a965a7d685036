-- Header Language Switches (GA4): sessions that switched to each language.
SELECT language_name AS `Switched To`, sum(distinct_screenings) AS `Sessions`
FROM __BQ__.mart_screener_language
WHERE __STATE_FILTER_NULL__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
GROUP BY language_name
ORDER BY `Sessions` DESC, `Switched To`
