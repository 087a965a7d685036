-- Disclaimer Link Clicks (GA4): for the three inline disclaimer links, sessions that clicked
-- over sessions that viewed the disclaimer, capped at 100% (blank when nobody clicked).
WITH links AS (
    SELECT 1 AS pos, 'Public Charge' AS label
    UNION ALL SELECT 2, 'Privacy Policy'
    UNION ALL SELECT 3, 'Terms and Conditions'
),
clicks AS (
    SELECT link_label, sum(screenings) AS sessions, sum(total_clicks) AS clicks
    FROM __BQ__.mart_screener_link_clicks
    WHERE link_location = 'disclaimer_inline' AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY link_label
),
viewers AS (
    SELECT count(DISTINCT session_key) AS n
    FROM __BQ__.mart_screener_step_facts
    WHERE screener_step_name = 'disclaimer' AND viewed AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
)
SELECT
    links.label AS `Link`,
    least(round(100 * clicks.sessions / nullif(viewers.n, 0), 1), 100) AS `% of Disclaimer Viewers`,
    clicks.clicks AS `Clicks`
FROM links
CROSS JOIN viewers
LEFT JOIN clicks ON clicks.link_label = links.label
ORDER BY links.pos
