-- Homeowners / Renters - utility provider: screeners of the group that named a provider
-- (__CODE__ set), labelled with the provider's name, else its code; the 20 most common.
SELECT
    coalesce(__NAME__, __CODE__, '(Unknown)') AS "Provider",
    count(*) AS "# of Screeners"
FROM analytics.mart_screener_data
WHERE __GROUP__ IS TRUE AND __CODE__ IS NOT NULL
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
GROUP BY 1
ORDER BY count(*) DESC, 1
LIMIT 20
