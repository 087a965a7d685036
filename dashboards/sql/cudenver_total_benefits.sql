-- Total annual value surfaced (benefits + tax credits) for the screeners who came through the
-- CU Denver link (referrer code exactly 'cudenver').
SELECT coalesce(sum(non_tax_credit_benefits_annual + tax_credits_annual), 0)
    AS "Total Annual Benefits Surfaced"
FROM analytics.mart_screener_data
WHERE referrer_code = 'cudenver' [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
