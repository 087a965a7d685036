-- CPAL's screeners: partner (URL code or dropdown attribution) in CPAL's list, which grows as
-- CPAL gets more links.
SELECT count(*) AS "Respondents"
FROM analytics.mart_screener_data
WHERE partner IN ('Child Poverty Action Lab (CPAL)')
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
