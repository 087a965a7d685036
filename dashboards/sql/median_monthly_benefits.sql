-- Median Monthly Benefits: median of the annual non-tax-credit value / 12 among screeners who
-- qualified for at least one such benefit.
SELECT
    round(
        (percentile_cont(0.5) WITHIN GROUP (ORDER BY non_tax_credit_benefits_annual / 12))::numeric,
        0
    ) AS "Median Monthly Benefits"
FROM analytics.mart_screener_data
WHERE non_tax_credit_benefits_annual > 0
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
