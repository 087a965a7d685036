-- Homeowners / Renters - Daily Screeners: the group's completed screeners per submission day.
SELECT
    submission_date AS "Date",
    count(*) AS "Screeners Completed"
FROM analytics.mart_screener_data
WHERE __GROUP__ IS TRUE [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
GROUP BY submission_date
ORDER BY submission_date
