-- Which counties did the screeners come from? One row per non-empty county, most screeners
-- first, then a "Total" row over the same counties. Shares are 0-1 fractions.
WITH counts AS (
    SELECT county, count(*) AS screeners
    FROM analytics.mart_screener_data
    WHERE county IS NOT NULL AND county <> ''
        [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
    GROUP BY county
),
listed AS (
    SELECT 0 AS part, county AS label, screeners FROM counts
    UNION ALL
    SELECT 1 AS part, 'Total' AS label, coalesce(sum(screeners), 0) AS screeners FROM counts
)
SELECT
    listed.label AS "County",
    listed.screeners AS "# of Screeners",
    listed.screeners::numeric / nullif((SELECT sum(screeners) FROM counts), 0) AS "% of Screeners"
FROM listed
ORDER BY listed.part, listed.screeners DESC, listed.label
