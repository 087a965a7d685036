-- Website Sessions (GA4): sessions on the white label's pages.
SELECT sum(sessions) AS `Sessions`
FROM __BQ__.mart_ga_kpi_summary
WHERE __STATE_FILTER__
    [[AND session_date >= CAST({{date_from}} AS DATE)]]
    [[AND session_date <= CAST({{date_to}} AS DATE)]]
