-- Completed Screeners: completed, non-test screens (mart_screener_data grain).
SELECT count(*) AS "Completed Screeners"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
