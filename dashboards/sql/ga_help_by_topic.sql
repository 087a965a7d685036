-- Help Click Rate by Topic (GA4): per step and help topic, screenings that clicked the tooltip
-- over screenings that viewed that step in the window, capped at 100%.
WITH clicks AS (
    SELECT screener_step_name, step_label, dimension,
        sum(distinct_screenings) AS screenings, sum(total_clicks) AS clicks
    FROM __BQ__.mart_screener_help
    WHERE metric = 'help_click' AND screener_step_name IS NOT NULL
        AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY screener_step_name, step_label, dimension
),
viewers AS (
    SELECT screener_step_name, count(DISTINCT screener_uid) AS n
    FROM __BQ__.mart_screener_step_views_by_screening
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY screener_step_name
)
SELECT
    concat(initcap(replace(clicks.dimension, '-', ' ')), ' (', coalesce(clicks.step_label, clicks.screener_step_name), ')')
        AS `Topic`,
    least(round(100 * clicks.screenings / nullif(viewers.n, 0), 1), 100) AS `Click Rate %`,
    clicks.clicks AS `Clicks`
FROM clicks
LEFT JOIN viewers ON viewers.screener_step_name = clicks.screener_step_name
ORDER BY `Click Rate %` DESC, `Topic`
