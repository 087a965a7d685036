{#- Per day x state: screenings that signed up, and those that opted in to SMS / email
    (consent params are the text 'true' / 'false'). -#}

with signups as (
    select * from {{ ref('stg_ga_screener_ui_events') }}
    where {{ ga4_daily_floor() }}
        and event_name = 'screener_signup_completed'
)

select
    event_date_parsed,
    screener_state,
    count(distinct screener_uid) as signups,
    count(distinct if(sms_consent = 'true', screener_uid, null)) as sms_opt_ins,
    count(distinct if(email_consent = 'true', screener_uid, null)) as email_opt_ins
from signups
where {{ ga4_daily_window() }}
group by 1, 2
