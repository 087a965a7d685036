-- Which partners did the screeners come from? One row per partner (including "No Partner" and
-- "Other"), most screeners first, then a "Total" row. Shares are 0-1 fractions of all filtered
-- screeners; the Total share is blank when there are none.
WITH counts AS (
    SELECT partner, count(*) AS screeners
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
    GROUP BY partner
),
listed AS (
    SELECT 0 AS part, partner AS label, screeners FROM counts
    UNION ALL
    SELECT 1 AS part, 'Total' AS label, coalesce(sum(screeners), 0) AS screeners FROM counts
)
SELECT
    listed.label AS "Partner",
    listed.screeners AS "# of Screeners",
    listed.screeners::numeric / nullif((SELECT sum(screeners) FROM counts), 0) AS "% of Screeners"
FROM listed
ORDER BY listed.part, listed.screeners DESC, listed.label
