-- Median annual value (benefits + tax credits) per household among the CU Denver-link screeners
-- with a student in the household with any value.
SELECT
    round(
        (percentile_cont(0.5) WITHIN GROUP (
            ORDER BY non_tax_credit_benefits_annual + tax_credits_annual
        ))::numeric,
        0
    ) AS "Median Annual Benefits"
FROM analytics.mart_screener_data
WHERE referrer_code = 'cudenver' AND has_student
    AND non_tax_credit_benefits_annual + tax_credits_annual > 0
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
