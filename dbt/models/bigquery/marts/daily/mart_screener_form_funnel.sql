{#- Per day x state x is_cesn x step: distinct sessions that viewed / completed / went back /
    errored, plus field-level error events. Synthetic steps __form_start__ ("Started Screener")
    and __form_complete__ ("Reached Results"). Sessions are counted (screener_uid does not
    exist before step 3); NULL-state landing rows are kept as their own group. -#}

with events as (
    {{ ga4_with_session_flags(ref('stg_ga_screener_form_funnel'), ga4_daily_floor()) }}
),

labelled as (
    select
        event_date_parsed,
        screener_state,
        is_cesn,
        session_key,
        event_name,
        step_action,
        screener_step_number,
        case event_name
            when 'screener_form_start' then '__form_start__'
            when 'screener_form_complete' then '__form_complete__'
            else screener_step_name
        end as screener_step_name
    from events
)

select
    event_date_parsed,
    screener_state,
    is_cesn,
    screener_step_name,
    {{ screener_step_label('screener_step_name') }} as step_label,
    max(screener_step_number) as screener_step_number,
    count(distinct if(event_name in ('screener_form_start', 'screener_form_complete')
                      or (event_name = 'screener_form_step' and step_action = 'view'),
                      session_key, null)) as sessions_viewed,
    count(distinct if(event_name = 'screener_form_step' and step_action = 'complete',
                      session_key, null)) as sessions_completed,
    count(distinct if(event_name = 'screener_form_back', session_key, null)) as sessions_back,
    count(distinct if(event_name = 'screener_form_error', session_key, null))
        as sessions_errored,
    countif(event_name = 'screener_form_error') as error_events
from labelled
where {{ ga4_daily_window() }}
    and screener_step_name is not null
group by event_date_parsed, screener_state, is_cesn, screener_step_name
