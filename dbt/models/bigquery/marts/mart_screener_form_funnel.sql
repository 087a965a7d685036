{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by={'field': 'event_date_parsed', 'data_type': 'date', 'granularity': 'day'},
    cluster_by=['screener_state', 'screener_step_name'],
) }}
{#- Per day x state x is_cesn x step: distinct sessions that viewed / completed / went back /
    errored, plus error events. Synthetic steps __form_start__ and __form_complete__. Sessions
    are counted (screener_uid does not exist before step 3). -#}

with events as (
    select * from {{ ref('stg_ga_screener_form_funnel') }}
    where table_suffix >= {{ ga4_suffix_floor(0) }}
),

labelled as (
    select
        event_date_parsed,
        screener_state,
        is_cesn,
        session_key,
        event_name,
        step_action,
        form_error_count,
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
where event_date_parsed >= {{ ga4_window_start_date() }}
    and screener_step_name is not null
group by event_date_parsed, screener_state, is_cesn, screener_step_name
