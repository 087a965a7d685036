-- What languages are spoken in these households? (request_language_code holds the name)
SELECT
    request_language_code AS "Language",
    round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS "% of Total"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
GROUP BY request_language_code
ORDER BY count(*) DESC, request_language_code
