{#- Per day x state x is_cesn x step x field x problem: field-level error events and distinct
    screenings with an error. Problem = the frontend's form_error_reason, trimmed. -#}

with events as (
    {{ ga4_with_session_flags(ref('stg_ga_screener_form_funnel'), ga4_daily_floor()) }}
),

errors as (
    select * from events
    where event_name = 'screener_form_error'
        and screener_step_name is not null
)

select
    event_date_parsed,
    screener_state,
    is_cesn,
    screener_step_name,
    {{ screener_step_label('screener_step_name') }} as step_label,
    {{ form_error_field_label('form_field_name') }} as field_label,
    coalesce(nullif(trim(form_error_reason), ''), '(no detail captured)') as problem,
    count(*) as total_errors,
    count(distinct screener_uid) as screenings_with_error
from errors
where {{ ga4_daily_window() }}
group by 1, 2, 3, 4, 5, 6, 7
