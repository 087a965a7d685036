-- Total Individuals: people in the households of completed screeners.
SELECT coalesce(sum(household_size), 0) AS "Total Individuals"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
