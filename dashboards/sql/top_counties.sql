-- Which counties did the screeners come from?
SELECT
    county AS "County",
    count(*) AS "# of Screeners",
    round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS "% of Screeners"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
GROUP BY county
ORDER BY count(*) DESC, county
