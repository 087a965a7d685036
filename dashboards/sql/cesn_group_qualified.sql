-- Homeowners / Renters - Qualified for Benefits *: share (0-1) of the group's screeners with
-- any non-tax-credit benefit value.
SELECT
    round(
        count(*) FILTER (WHERE non_tax_credit_benefits_annual > 0)::numeric
        / nullif(count(*), 0),
        4
    ) AS "Qualified for Benefits"
FROM analytics.mart_screener_data
WHERE __GROUP__ IS TRUE [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
