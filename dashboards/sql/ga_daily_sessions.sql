-- Daily Sessions and Screener Starts (GA4), per event day.
SELECT
    session_date AS `Date`,
    sum(sessions) AS `Sessions`,
    sum(started) AS `Started Screener`,
    sum(completed) AS `Reached Results`
FROM __BQ__.mart_ga_kpi_summary
WHERE __STATE_FILTER__
    [[AND session_date >= CAST({{date_from}} AS DATE)]]
    [[AND session_date <= CAST({{date_to}} AS DATE)]]
GROUP BY session_date
ORDER BY session_date
