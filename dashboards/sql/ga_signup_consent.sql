-- Sign-up Consent Rates (GA4): SMS and email opt-ins over sign-ups.
WITH t AS (
    SELECT sum(signups) AS signups, sum(sms_opt_ins) AS sms, sum(email_opt_ins) AS email
    FROM __BQ__.mart_screener_signup_consent
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
)
SELECT 'SMS' AS `Channel`, round(100 * sms / nullif(signups, 0), 1) AS `% Opted In`, sms AS `Opt-Ins`
FROM t
UNION ALL
SELECT 'Email', round(100 * email / nullif(signups, 0), 1), email
FROM t
