-- What languages are spoken in these households? request_language_code holds the language
-- name ("(blank)" when unmapped); share = 0-1 fraction, most common first.
SELECT
    request_language_code AS "Language",
    count(*)::numeric / sum(count(*)) OVER () AS "% of Total"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
GROUP BY request_language_code
ORDER BY count(*) DESC, request_language_code
