-- Median annual value (benefits + tax credits) among CPAL households matched to anything.
-- CPAL's screeners: partner (URL code or dropdown attribution) in CPAL's list, which grows as
-- CPAL gets more links.
SELECT
    round(
        (percentile_cont(0.5) WITHIN GROUP (
            ORDER BY non_tax_credit_benefits_annual + tax_credits_annual
        ))::numeric,
        0
    ) AS "Median Annual Value"
FROM analytics.mart_screener_data
WHERE partner IN ('Child Poverty Action Lab (CPAL)')
    AND non_tax_credit_benefits_annual + tax_credits_annual > 0
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
