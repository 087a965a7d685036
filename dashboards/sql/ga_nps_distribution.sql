-- NPS Score Distribution (GA4): submitted scores per score 0-10 (every score has a slot; blank
-- when nobody gave it).
WITH scores AS (
    SELECT nps_score, sum(scores_submitted) AS n
    FROM __BQ__.mart_screener_nps
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY nps_score
)
SELECT CAST(slot AS STRING) AS `NPS Score (0-10)`, scores.n AS `Scores`
FROM UNNEST(GENERATE_ARRAY(0, 10)) AS slot
LEFT JOIN scores ON scores.nps_score = slot
ORDER BY slot
