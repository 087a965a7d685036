-- Where Did Visitors Come From? Sessions by GA4 medium and source.
SELECT
    session_medium AS `Medium`,
    session_source AS `Source`,
    sum(sessions) AS `Sessions`,
    sum(users) AS `Users`
FROM __BQ__.mart_ga_traffic_mediums
WHERE __STATE_FILTER__
    [[AND session_date >= CAST({{date_from}} AS DATE)]]
    [[AND session_date <= CAST({{date_to}} AS DATE)]]
GROUP BY session_medium, session_source
ORDER BY sum(sessions) DESC, session_medium, session_source
LIMIT 50
