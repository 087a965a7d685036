-- Completed screeners among the screeners who came through the CU Denver link (referrer code
-- exactly 'cudenver').
SELECT count(*) AS "Completed Screeners"
FROM analytics.mart_screener_data
WHERE referrer_code = 'cudenver' [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
