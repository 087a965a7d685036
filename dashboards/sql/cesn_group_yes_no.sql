-- Homeowners / Renters - a yes/no energy question (__FLAG__): how many of the group answered
-- No and Yes (unanswered left out), No first.
SELECT
    CASE WHEN __FLAG__ THEN 'Yes' ELSE 'No' END AS "Answer",
    count(*) AS "# of Screeners"
FROM analytics.mart_screener_data
WHERE __GROUP__ IS TRUE AND __FLAG__ IS NOT NULL
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
GROUP BY __FLAG__
ORDER BY __FLAG__
