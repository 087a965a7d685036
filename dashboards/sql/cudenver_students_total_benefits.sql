-- Total annual value surfaced (benefits + tax credits) for the CU Denver-link screeners with a
-- student in the household.
SELECT coalesce(sum(non_tax_credit_benefits_annual + tax_credits_annual), 0)
    AS "Total Annual Benefits Surfaced"
FROM analytics.mart_screener_data
WHERE referrer_code = 'cudenver' AND has_student
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
