-- Per step (GA4): sessions that went back over sessions that viewed the step; steps with at least
-- one such session.
SELECT
    step_label AS `Step`,
    round(100 * countif(navigated_back) / nullif(countif(viewed), 0), 1) AS `% Went Back`,
    countif(navigated_back) AS `Sessions`
FROM __BQ__.mart_screener_step_facts
WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
GROUP BY step_label
HAVING countif(navigated_back) >= 1
ORDER BY `% Went Back` DESC, `Step`
