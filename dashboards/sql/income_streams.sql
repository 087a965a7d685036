-- What income streams do households have? Monthly amounts use the dbt staging factors
-- (weekly x 52/12, biweekly x 26/12, semimonthly x 2, yearly / 12, hourly x hours (40) x 52/12).
-- The denominator is a scalar subquery over the filtered screens (no CROSS JOIN totals).
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
),

streams AS (
    SELECT
        i.screen_id,
        i.type,
        CASE i.frequency
            WHEN 'weekly' THEN i.amount * 52 / 12
            WHEN 'biweekly' THEN i.amount * 26 / 12
            WHEN 'semimonthly' THEN i.amount * 2
            WHEN 'yearly' THEN i.amount / 12
            WHEN 'hourly' THEN i.amount * coalesce(i.hours_worked, 40) * 52 / 12
            ELSE i.amount
        END AS monthly_amount
    FROM analytics.mart_income AS i
    INNER JOIN screens ON i.screen_id = screens.id
)

SELECT
    streams.type AS "Income Type",
    count(DISTINCT streams.screen_id) AS "# of Screeners",
    round(
        100.0 * count(DISTINCT streams.screen_id) / nullif((SELECT count(*) FROM screens), 0), 1
    ) AS "% of Screeners",
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY streams.monthly_amount))::numeric, 0)
        AS "Median Monthly Amount"
FROM streams
GROUP BY streams.type
ORDER BY count(DISTINCT streams.screen_id) DESC, streams.type
