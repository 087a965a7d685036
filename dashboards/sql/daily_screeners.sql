-- Daily Screeners: completed screeners per submission day.
SELECT
    submission_date AS "Date",
    count(*) AS "Screeners"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
GROUP BY submission_date
ORDER BY submission_date
