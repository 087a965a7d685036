-- Already Had Benefits: share of completed screeners who said they already receive benefits.
SELECT
    round(count(*) FILTER (WHERE has_benefits = 'true')::numeric / nullif(count(*), 0), 4)
        AS "Already Had Benefits"
FROM analytics.mart_screener_data
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
