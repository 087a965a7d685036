-- Header/footer element clicks of one element group (bound per card: '__GROUP__' becomes
-- nav, social or feedback_share): distinct clicking sessions over distinct sessions on the form
-- in the window, capped at 100%.
WITH clicks AS (
    SELECT element, count(DISTINCT session_key) AS sessions
    FROM __BQ__.mart_screener_footer_engagement
    WHERE element_group = '__GROUP__'
        AND __STATE_FILTER_NULL__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY element
),
visitors AS (
    SELECT count(DISTINCT session_key) AS n
    FROM __BQ__.mart_screener_step_facts
    WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
)
SELECT
    clicks.element AS `Element`,
    least(round(100 * clicks.sessions / nullif(visitors.n, 0), 1), 100) AS `% of Sessions`,
    clicks.sessions AS `Sessions`
FROM clicks
CROSS JOIN visitors
ORDER BY `% of Sessions` DESC, `Element`
