{#- One row per session x step: viewed / errored / went back, field-level error events, state
    (greatest), is_cesn, and the session's last active day on that step. -#}

with flagged as (
    {{ ga4_with_session_flags(ref('stg_ga_screener_form_funnel'),
                              "table_suffix >= '" ~ var('ga4_epoch_suffix') ~ "'") }}
),

events as (
    select * from flagged
    where screener_step_name is not null
        and event_name in ('screener_form_step', 'screener_form_error', 'screener_form_back')
)

select
    session_key,
    screener_step_name,
    {{ screener_step_label('screener_step_name') }} as step_label,
    max(event_date_parsed) as event_date_parsed,
    max(screener_state) as screener_state,
    logical_or(is_cesn) as is_cesn,
    logical_or(event_name = 'screener_form_step' and step_action = 'view') as viewed,
    logical_or(event_name = 'screener_form_error') as errored,
    logical_or(event_name = 'screener_form_back') as navigated_back,
    countif(event_name = 'screener_form_error') as error_events
from events
group by session_key, screener_step_name
