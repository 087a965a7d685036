-- Average number of programs matched (zeros included) for the screeners who came through the CU
-- Denver link (referrer code exactly 'cudenver').
SELECT round(avg(programs_matched), 1) AS "Avg # Programs Matched"
FROM analytics.mart_screener_data
WHERE referrer_code = 'cudenver' [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
