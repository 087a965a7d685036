-- Annual value per household (benefits + tax credits) in buckets, in bucket order; empty
-- buckets are absent. Lower edge inclusive.
-- CPAL's screeners: partner (URL code or dropdown attribution) in CPAL's list, which grows as
-- CPAL gets more links.
SELECT
    CASE
        WHEN v = 0 THEN '$0'
        WHEN v < 5000 THEN '$1-$4,999'
        WHEN v < 10000 THEN '$5,000-$9,999'
        WHEN v < 20000 THEN '$10,000-$19,999'
        WHEN v < 40000 THEN '$20,000-$39,999'
        ELSE '$40,000+'
    END AS "Annual Value Identified",
    count(*) AS "Households"
FROM (
    SELECT non_tax_credit_benefits_annual + tax_credits_annual AS v
    FROM analytics.mart_screener_data
    WHERE partner IN ('Child Poverty Action Lab (CPAL)')
        [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
) AS households
GROUP BY 1
ORDER BY min(v)
