-- Average number of programs matched (zeros included) for the CU Denver-link screeners with a
-- student in the household.
SELECT round(avg(programs_matched), 1) AS "Avg # Programs Matched"
FROM analytics.mart_screener_data
WHERE referrer_code = 'cudenver' AND has_student
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
