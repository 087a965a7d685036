-- % Disabled: of the household members who answered at least one disability question, the
-- share with any of disabled / visually impaired / long-term disability (unanswered = no).
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
)
SELECT
    round(
        count(*) FILTER (
            WHERE m.disabled IS TRUE OR m.visually_impaired IS TRUE
                OR m.long_term_disability IS TRUE
        )::numeric / nullif(count(*), 0),
        4
    ) AS "% Disabled"
FROM analytics.mart_householdmembers AS m
INNER JOIN screens ON m.screen_id = screens.id
WHERE m.disabled IS NOT NULL OR m.visually_impaired IS NOT NULL
    OR m.long_term_disability IS NOT NULL
