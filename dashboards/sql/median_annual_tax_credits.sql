-- Median Annual Tax Credits: median annual tax-credit value among screeners who qualified.
SELECT
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY tax_credits_annual))::numeric, 0)
        AS "Median Annual Tax Credits"
FROM analytics.mart_screener_data
WHERE tax_credits_annual > 0
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
