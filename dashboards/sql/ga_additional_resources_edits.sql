-- Additional Resources Edited (from Results) (GA4): sessions that clicked the "Edit Step" link of
-- the Additional Resources tab over screenings that opened the tab (capped at 100%).
WITH t AS (
    SELECT coalesce(sum(screenings), 0) AS n
    FROM __BQ__.mart_screener_link_clicks
    WHERE link_label = 'Additional Resources — Edit Step' AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
openers AS (
    SELECT sum(distinct_screenings) AS n
    FROM __BQ__.mart_screener_resource_engagement
    WHERE metric = 'tab_open' AND dimension = 'additional_resources'
        AND __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
)
SELECT least(round(100 * t.n / nullif(openers.n, 0), 1), 100) AS `% of Tab Openers`, t.n AS `Edited`
FROM t
CROSS JOIN openers
