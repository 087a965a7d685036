-- Median Annual Benefits: median non-tax-credit annual value among screeners who qualified.
SELECT
    round(
        (percentile_cont(0.5) WITHIN GROUP (ORDER BY non_tax_credit_benefits_annual))::numeric, 0
    ) AS "Median Annual Benefits"
FROM analytics.mart_screener_data
WHERE non_tax_credit_benefits_annual > 0
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
