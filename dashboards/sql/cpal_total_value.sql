-- Annual benefits plus tax credits identified, CPAL screeners.
-- CPAL's screeners: partner (URL code or dropdown attribution) in CPAL's list, which grows as
-- CPAL gets more links.
SELECT coalesce(sum(non_tax_credit_benefits_annual + tax_credits_annual), 0) AS "Total Annual Value"
FROM analytics.mart_screener_data
WHERE partner IN ('Child Poverty Action Lab (CPAL)')
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
