-- Completed screeners among the CU Denver-link screeners with a student in the household.
SELECT count(*) AS "Completed Screeners"
FROM analytics.mart_screener_data
WHERE referrer_code = 'cudenver' AND has_student
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
