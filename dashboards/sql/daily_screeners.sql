-- Daily Screeners: completed screeners per submission day (tenant: the dashboard's dates;
-- the global card sets window_days).
SELECT
    submission_date AS "Date",
    count(*) AS "Screeners Completed"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
GROUP BY submission_date
ORDER BY submission_date
