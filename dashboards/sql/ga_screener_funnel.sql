-- Screener Conversion Funnel (GA4): distinct screenings that reached each stage (one scan).
WITH totals AS (
    SELECT
        count(*) AS started,
        countif(saw_results) AS saw_results,
        countif(viewed_details) AS viewed_details,
        countif(applied) AS applied
    FROM __BQ__.mart_screener_screening_funnel
    WHERE __STATE_FILTER__
        [[AND first_event_date >= CAST({{date_from}} AS DATE)]]
        [[AND first_event_date <= CAST({{date_to}} AS DATE)]]
)
SELECT stages.stage AS `Stage`, stages.screenings AS `Screenings`
FROM totals
CROSS JOIN UNNEST([
    STRUCT(1 AS step, 'Started Screener' AS stage, totals.started AS screenings),
    STRUCT(2 AS step, 'Saw Results' AS stage, totals.saw_results AS screenings),
    STRUCT(3 AS step, 'Viewed Program Details' AS stage, totals.viewed_details AS screenings),
    STRUCT(4 AS step, 'Clicked Apply' AS stage, totals.applied AS screenings)
]) AS stages
ORDER BY stages.step
