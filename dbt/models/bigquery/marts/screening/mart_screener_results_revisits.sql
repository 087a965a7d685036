{#- One row per screening whose results loaded (full history): lifetime load count, the first
    load day (event_date_parsed), the state of the earliest load with a known code, is_cesn. -#}

with outcomes as (
    {{ ga4_with_session_flags(ref('stg_ga_screener_results_outcomes'),
                              "table_suffix >= '" ~ var('ga4_history_start_suffix') ~ "'") }}
),

loads as (
    select * from outcomes
    where event_name = 'screener_results_loaded'
        and screener_uid is not null
)

select
    screener_uid,
    count(*) as results_load_count,
    min(event_date_parsed) as event_date_parsed,
    array_agg(if(screener_state in {{ screener_state_codes() }}, screener_state, null) ignore nulls
              order by event_datetime, batch_event_index)[safe_offset(0)] as screener_state,
    logical_or(is_cesn) as is_cesn
from loads
group by screener_uid
