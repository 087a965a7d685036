-- Total Benefits: every annual benefit surfaced, non-tax benefits plus tax credits.
SELECT coalesce(sum(non_tax_credit_benefits_annual + tax_credits_annual), 0) AS "Total Benefits"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
