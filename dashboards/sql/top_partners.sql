-- Which partners did the screeners come from? Share uses a window total (no CROSS JOIN).
SELECT
    partner AS "Partner",
    count(*) AS "# of Screeners",
    round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS "% of Screeners"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
GROUP BY partner
ORDER BY count(*) DESC, partner
