-- Completed screeners by month (first day of the submission month), CU Denver link.
SELECT date_trunc('month', submission_date)::date AS "Month", count(*) AS "Completed Screeners"
FROM analytics.mart_screener_data
WHERE referrer_code = 'cudenver' [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
GROUP BY 1
ORDER BY 1
