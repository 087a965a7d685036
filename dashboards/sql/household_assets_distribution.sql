-- What is the breakdown of household assets? ($50K+ are likely homeowners)
SELECT
    CASE
        WHEN household_assets < 1000 THEN '$0-1K'
        WHEN household_assets < 5000 THEN '$1K-5K'
        WHEN household_assets < 20000 THEN '$5K-20K'
        WHEN household_assets < 50000 THEN '$20K-50K'
        ELSE '$50K+'
    END AS "Asset Range",
    round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS "% of Total"
FROM analytics.mart_screener_data
WHERE household_assets IS NOT NULL
    [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
GROUP BY 1
ORDER BY min(household_assets)
