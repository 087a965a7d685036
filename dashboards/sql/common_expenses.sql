-- What are the most common expenses? Same monthly factors as income_streams.sql.
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
),

expenses AS (
    SELECT
        e.screen_id,
        e.type,
        CASE e.frequency
            WHEN 'weekly' THEN e.amount * 52 / 12
            WHEN 'biweekly' THEN e.amount * 26 / 12
            WHEN 'semimonthly' THEN e.amount * 2
            WHEN 'yearly' THEN e.amount / 12
            ELSE e.amount
        END AS monthly_amount
    FROM analytics.mart_screener_expense AS e
    INNER JOIN screens ON e.screen_id = screens.id
)

SELECT
    expenses.type AS "Expense Type",
    count(DISTINCT expenses.screen_id) AS "# of Screeners",
    round(
        100.0 * count(DISTINCT expenses.screen_id) / nullif((SELECT count(*) FROM screens), 0), 1
    ) AS "% of Screeners",
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY expenses.monthly_amount))::numeric, 0)
        AS "Median Monthly Amount"
FROM expenses
GROUP BY expenses.type
ORDER BY count(DISTINCT expenses.screen_id) DESC, expenses.type
