-- Median monthly value ((benefits + tax credits) / 12) per household among the CU Denver-link
-- screeners with any value.
SELECT
    round(
        (percentile_cont(0.5) WITHIN GROUP (
            ORDER BY (non_tax_credit_benefits_annual + tax_credits_annual) / 12
        ))::numeric,
        0
    ) AS "Median Monthly Benefits"
FROM analytics.mart_screener_data
WHERE referrer_code = 'cudenver' AND non_tax_credit_benefits_annual + tax_credits_annual > 0
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
