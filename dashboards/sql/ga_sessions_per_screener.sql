-- Sessions per Screener (GA4): screenings with at least one session, by how many distinct
-- sessions they span (1, 2, 3, 4+), as a percent of all of them.
WITH s AS (
    SELECT least(distinct_sessions, 4) AS bucket
    FROM __BQ__.mart_screener_screening_funnel
    WHERE distinct_sessions >= 1
        AND __STATE_FILTER_NOT_CESN__ AND first_event_date >= __GA_EPOCH__
        [[AND first_event_date >= CAST({{date_from}} AS DATE)]]
        [[AND first_event_date <= CAST({{date_to}} AS DATE)]]
),
counts AS (
    SELECT bucket, count(*) AS screenings FROM s GROUP BY bucket
)
SELECT
    CASE WHEN bucket >= 4 THEN '4+' ELSE CAST(bucket AS STRING) END AS `Sessions`,
    round(100 * screenings / (SELECT sum(screenings) FROM counts), 1) AS `% of Screeners`,
    screenings AS `Screenings`
FROM counts
ORDER BY bucket
