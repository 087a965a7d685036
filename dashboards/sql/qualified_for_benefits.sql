-- Qualified for Benefits: share of completed screeners with any non-tax-credit benefit value.
SELECT
    round(
        count(*) FILTER (WHERE non_tax_credit_benefits_annual > 0)::numeric
        / nullif(count(*), 0),
        4
    ) AS "Qualified for Benefits"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
