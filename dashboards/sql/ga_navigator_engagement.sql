-- Navigator Engagement (GA4): screenings shown each navigator and its website / email / phone clicks.
WITH per AS (
    SELECT
        navigator_name, program_name,
        sum(if(contact_method = '__shown__', screenings_with_engagement, 0)) AS shown,
        sum(if(contact_method = 'website', total_engagements, 0)) AS website,
        sum(if(contact_method = 'email', total_engagements, 0)) AS email,
        sum(if(contact_method = 'phone', total_engagements, 0)) AS phone
    FROM __BQ__.mart_screener_navigator_engagement
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY program_name, navigator_name
)
SELECT
    navigator_name AS `Navigator`,
    program_name AS `Program`,
    shown AS `Shown`,
    website AS `Website`,
    email AS `Email`,
    phone AS `Phone`
FROM per
WHERE shown + website + email + phone > 0
ORDER BY shown DESC, website + email + phone DESC, `Navigator`
