-- What is the breakdown of household income? (annual = monthly_income x 12)
SELECT
    CASE
        WHEN monthly_income * 12 < 15000 THEN '$0-15K'
        WHEN monthly_income * 12 < 30000 THEN '$15K-30K'
        WHEN monthly_income * 12 < 50000 THEN '$30K-50K'
        WHEN monthly_income * 12 < 75000 THEN '$50K-75K'
        WHEN monthly_income * 12 < 100000 THEN '$75K-100K'
        ELSE '$100K+'
    END AS "Income Range",
    round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS "% of Total"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
GROUP BY 1
ORDER BY min(monthly_income)
