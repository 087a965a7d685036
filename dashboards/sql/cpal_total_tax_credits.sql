-- Annual tax credits identified, CPAL screeners.
-- CPAL's screeners: partner (URL code or dropdown attribution) in CPAL's list, which grows as
-- CPAL gets more links.
SELECT coalesce(sum(tax_credits_annual), 0) AS "Total Potential Tax Credits"
FROM analytics.mart_screener_data
WHERE partner IN ('Child Poverty Action Lab (CPAL)')
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
