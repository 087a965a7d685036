-- Non-Tax Benefits: the annual value of every non-tax-credit benefit surfaced.
SELECT coalesce(sum(non_tax_credit_benefits_annual), 0) AS "Non-Tax Benefits"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
