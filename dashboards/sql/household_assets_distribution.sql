-- What is the breakdown of household assets? Screens with an assets answer; lower edge
-- inclusive ($50K+ are likely homeowners).
SELECT
    CASE
        WHEN household_assets < 1000 THEN '$0-1K'
        WHEN household_assets < 2000 THEN '$1-2K'
        WHEN household_assets < 5000 THEN '$2-5K'
        WHEN household_assets < 10000 THEN '$5-10K'
        WHEN household_assets < 50000 THEN '$10-50K'
        ELSE '$50K+'
    END AS "Asset Range",
    count(*)::numeric / sum(count(*)) OVER () AS "% of Total"
FROM analytics.mart_screener_data
WHERE household_assets IS NOT NULL
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
GROUP BY 1
ORDER BY min(household_assets)
