-- What is the breakdown of household income? Screens with income rows only (NULL
-- monthly_income is left out); annual = 12 x monthly; lower edge inclusive.
SELECT
    CASE
        WHEN monthly_income * 12 < 15000 THEN '$0-15K'
        WHEN monthly_income * 12 < 30000 THEN '$15-30K'
        WHEN monthly_income * 12 < 45000 THEN '$30-45K'
        WHEN monthly_income * 12 < 60000 THEN '$45-60K'
        WHEN monthly_income * 12 < 75000 THEN '$60-75K'
        WHEN monthly_income * 12 < 100000 THEN '$75-100K'
        ELSE '$100K+'
    END AS "Income Range",
    count(*)::numeric / sum(count(*)) OVER () AS "% of Total"
FROM analytics.mart_screener_data
WHERE monthly_income IS NOT NULL
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
GROUP BY 1
ORDER BY min(monthly_income)
