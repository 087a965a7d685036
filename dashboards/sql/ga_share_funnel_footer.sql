-- Share Funnel — Footer (GA4): shown (started screener), then screenings that opened and sent a share from
-- location footer.
WITH viewers AS (
    SELECT coalesce(sum(sessions_viewed), 0) AS n
    FROM __BQ__.mart_screener_form_funnel
    WHERE screener_step_name = '__form_start__' AND __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
shares AS (
    SELECT
        coalesce(sum(if(share_action = 'open', screenings_with_share, 0)), 0) AS opened,
        coalesce(sum(if(share_action = 'send', screenings_with_share, 0)), 0) AS sent
    FROM __BQ__.mart_screener_shares
    WHERE share_location = 'footer' AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
stages AS (
    SELECT 1 AS step, 'Shown (started screener)' AS stage, viewers.n AS screenings FROM viewers
    UNION ALL SELECT 2, 'Opened', opened FROM shares
    UNION ALL SELECT 3, 'Sent', sent FROM shares
)
SELECT stage AS `Stage`, screenings AS `Screenings`
FROM stages
ORDER BY step
