-- Lowest annual value (benefits + tax credits) among CPAL households matched to anything;
-- 0 when none is.
-- CPAL's screeners: partner (URL code or dropdown attribution) in CPAL's list, which grows as
-- CPAL gets more links.
SELECT coalesce(min(non_tax_credit_benefits_annual + tax_credits_annual), 0)
    AS "Lowest Annual Value"
FROM analytics.mart_screener_data
WHERE partner IN ('Child Poverty Action Lab (CPAL)')
    AND non_tax_credit_benefits_annual + tax_credits_annual > 0
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
