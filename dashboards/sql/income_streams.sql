-- What income streams do households have? Income rows with a positive amount, as monthly
-- amounts with this card's factors (weekly x 4.35, biweekly x 2.175, semimonthly x 2,
-- yearly / 12, hourly x hours worked x 4.35 with missing hours = 0, anything else as entered).
-- "% of Screeners" = screens with the type / all filtered screens (0-1); most common first.
WITH screens AS (
    SELECT id
    FROM analytics.mart_screener_data
    WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
),
streams AS (
    SELECT
        i.screen_id,
        i.type,
        CASE i.frequency
            WHEN 'monthly' THEN i.amount
            WHEN 'weekly' THEN i.amount * 4.35
            WHEN 'biweekly' THEN i.amount * 2.175
            WHEN 'semimonthly' THEN i.amount * 2
            WHEN 'yearly' THEN i.amount / 12
            WHEN 'hourly' THEN i.amount * coalesce(i.hours_worked, 0) * 4.35
            ELSE i.amount
        END AS monthly_amount
    FROM analytics.mart_income AS i
    INNER JOIN screens ON i.screen_id = screens.id
    WHERE i.amount > 0
)
SELECT
    CASE streams.type
        WHEN 'wages' THEN 'Wages'
        WHEN 'selfEmployment' THEN 'Self Employment'
        WHEN 'sSDisability' THEN 'SS Disability'
        WHEN 'sSRetirement' THEN 'SS Retirement'
        WHEN 'SSI' THEN 'SSI'
        WHEN 'sSDependent' THEN 'SS Dependent'
        WHEN 'sSSurvivor' THEN 'SS Survivor'
        WHEN 'unemployment' THEN 'Unemployment'
        WHEN 'pension' THEN 'Pension'
        WHEN 'investmentIncome' THEN 'Investment Income'
        WHEN 'rental' THEN 'Rental'
        WHEN 'alimony' THEN 'Alimony'
        WHEN 'childSupport' THEN 'Child Support'
        WHEN 'DIVABenefits' THEN 'VA Disability'
        WHEN 'workersComp' THEN 'Workers Comp'
        WHEN 'giftedIncome' THEN 'Gifted Income'
        WHEN 'boarder' THEN 'Boarder'
        WHEN 'cOWorks' THEN 'CO Works'
        ELSE streams.type
    END AS "Type",
    count(DISTINCT streams.screen_id)::numeric / nullif((SELECT count(*) FROM screens), 0)
        AS "% of Screeners",
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY streams.monthly_amount))::numeric, 0)
        AS "Median Amount"
FROM streams
GROUP BY streams.type
ORDER BY count(DISTINCT streams.screen_id) DESC, "Type"
