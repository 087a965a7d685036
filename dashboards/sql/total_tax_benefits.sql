-- Tax Benefits: the annual value of every tax credit surfaced.
SELECT coalesce(sum(tax_credits_annual), 0) AS "Tax Benefits"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
