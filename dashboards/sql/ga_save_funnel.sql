-- Save Funnel (GA4): results viewers, screenings that opened the save popup, screenings that saved.
WITH viewers AS (
    SELECT count(*) AS n
    FROM __BQ__.mart_screener_results_revisits
    WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
saves AS (
    SELECT
        coalesce(sum(if(save_channel = '__popup_shown__', distinct_screenings, 0)), 0) AS opened,
        coalesce(sum(if(save_channel = '__saved__', distinct_screenings, 0)), 0) AS saved
    FROM __BQ__.mart_screener_saves
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
stages AS (
    SELECT 1 AS step, 'Shown (reached results)' AS stage, viewers.n AS screenings FROM viewers
    UNION ALL SELECT 2, 'Opened Save Popup', opened FROM saves
    UNION ALL SELECT 3, 'Saved', saved FROM saves
)
SELECT stage AS `Stage`, screenings AS `Screenings`
FROM stages
ORDER BY step
