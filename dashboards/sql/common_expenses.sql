-- What are the most common expenses? Expense rows with a positive amount, as monthly amounts
-- with this card's factors (weekly x 4.35, biweekly x 2.175, semimonthly x 2, yearly / 12,
-- anything else as entered). "% of Screeners" = screens with the type / all filtered screens.
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
),
expenses AS (
    SELECT
        e.screen_id,
        e.type,
        CASE e.frequency
            WHEN 'monthly' THEN e.amount
            WHEN 'weekly' THEN e.amount * 4.35
            WHEN 'biweekly' THEN e.amount * 2.175
            WHEN 'semimonthly' THEN e.amount * 2
            WHEN 'yearly' THEN e.amount / 12
            ELSE e.amount
        END AS monthly_amount
    FROM analytics.mart_screener_expense AS e
    INNER JOIN screens ON e.screen_id = screens.id
    WHERE e.amount > 0
)
SELECT
    CASE expenses.type
        WHEN 'rent' THEN 'Rent'
        WHEN 'mortgage' THEN 'Mortgage'
        WHEN 'childCare' THEN 'Child Care'
        WHEN 'childSupport' THEN 'Child Support'
        WHEN 'dependentCare' THEN 'Dependent Care'
        WHEN 'medical' THEN 'Medical'
        WHEN 'heating' THEN 'Heating'
        WHEN 'telephone' THEN 'Telephone'
        ELSE expenses.type
    END AS "Type",
    count(DISTINCT expenses.screen_id)::numeric / nullif((SELECT count(*) FROM screens), 0)
        AS "% of Screeners",
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY expenses.monthly_amount))::numeric, 0)
        AS "Median Amount"
FROM expenses
GROUP BY expenses.type
ORDER BY count(DISTINCT expenses.screen_id) DESC, "Type"
