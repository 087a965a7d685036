-- Results Views per Screening (GA4): screenings (by first results load in the window) by how
-- many times they loaded results over their lifetime.
SELECT
    CASE WHEN results_load_count >= 3 THEN '3+ times' WHEN results_load_count = 2 THEN '2 times'
        ELSE '1 time' END AS `Times Viewed`,
    count(*) AS `Screenings`
FROM __BQ__.mart_screener_results_revisits
WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
GROUP BY `Times Viewed`
ORDER BY `Times Viewed`
