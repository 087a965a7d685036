-- Results Scroll Depth (GA4): per results tab, screenings by the furthest depth they scrolled
-- to, as a percent of that tab's scrolling screenings.
WITH t AS (
    SELECT
        CASE tab_name WHEN 'long_term_benefits' THEN 'Long-Term Benefits'
            WHEN 'additional_resources' THEN 'Additional Resources'
            ELSE coalesce(tab_name, '(unknown)') END AS tab,
        furthest_depth,
        sum(screenings_reached_depth) AS screenings
    FROM __BQ__.mart_screener_scroll_depth
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY tab, furthest_depth
)
SELECT
    CASE furthest_depth WHEN 25 THEN '1. Quarter Page' WHEN 50 THEN '2. Half Page'
        WHEN 75 THEN '3. Three-Quarter Page' WHEN 100 THEN '4. Full Page'
        ELSE concat(CAST(furthest_depth AS STRING), '%') END AS `Depth`,
    tab AS `Tab`,
    round(100 * screenings / sum(screenings) OVER (PARTITION BY tab), 1) AS `% of Tab Scrollers`
FROM t
ORDER BY `Depth`, `Tab`
