-- Qualified for Tax Credits: share of completed screeners with any tax-credit value.
SELECT
    round(
        count(*) FILTER (WHERE tax_credits_annual > 0)::numeric / nullif(count(*), 0), 4
    ) AS "Qualified for Tax Credits"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
