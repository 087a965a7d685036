-- Household Member Actions (GA4): per action, screenings that took it over the screenings that
-- viewed a household-member step or took any Household Members action in the window.
WITH actions AS (
    SELECT screener_uid, action, total_actions
    FROM __BQ__.mart_screener_section_engagement
    WHERE section = 'Household Members' AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
),
base AS (
    SELECT screener_uid
    FROM __BQ__.mart_screener_step_views_by_screening
    WHERE screener_step_name IN ('member-basics', 'household-members') AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    UNION DISTINCT
    SELECT screener_uid FROM actions
),
per_action AS (
    SELECT action, count(DISTINCT screener_uid) AS screenings, sum(total_actions) AS total
    FROM actions
    GROUP BY action
)
SELECT
    CASE action
        WHEN 'add' THEN 'Add'
        WHEN 'delete' THEN 'Delete'
        WHEN 'edit_from_summary' THEN 'Edit (from summary)'
        WHEN 'delete_from_summary' THEN 'Delete (from summary)'
        ELSE initcap(replace(action, '_', ' '))
    END AS `Action`,
    round(100 * screenings / nullif((SELECT count(DISTINCT screener_uid) FROM base), 0), 1)
        AS `% of Household-Step Viewers`,
    screenings AS `Screenings`,
    total AS `Total Actions`
FROM per_action
ORDER BY CASE action WHEN 'add' THEN 1 WHEN 'delete' THEN 2 WHEN 'edit_from_summary' THEN 3
    WHEN 'delete_from_summary' THEN 4 ELSE 5 END, `Action`
