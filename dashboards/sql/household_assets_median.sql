-- Household Assets (Median): screens without an assets answer are ignored.
SELECT
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY household_assets))::numeric, 0)
        AS "Household Assets (Median)"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
