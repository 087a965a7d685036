{#- One row per screening x step x view day: the screening-keyed denominator of the Help and
    Household Member Actions cards. -#}

with views as (
    select * from {{ ref('stg_ga_screener_form_funnel') }}
    where {{ ga4_daily_floor() }}
        and event_name = 'screener_form_step'
        and step_action = 'view'
        and screener_uid is not null
        and screener_step_name is not null
)

select
    event_date_parsed,
    screener_uid,
    screener_step_name,
    {{ screener_step_label('screener_step_name') }} as step_label,
    max(screener_state) as screener_state,
    true as viewed
from views
where {{ ga4_daily_window() }}
group by event_date_parsed, screener_uid, screener_step_name
