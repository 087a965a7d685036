-- Screener form funnel events; screener_uid is NULL before step 3 (zip code).
with events as (
    select
        *,
        _table_suffix as table_suffix
    from {{ source('google_analytics', 'events') }}
    where _table_suffix between '{{ var("ga4_epoch_suffix") }}' and '99999999'
        and event_name in ('screener_form_start', 'screener_form_step', 'screener_form_complete',
            'screener_form_error', 'screener_form_back')
),

extracted as (
    select
        table_suffix,
        parse_date('%Y%m%d', event_date) as event_date_parsed,
        timestamp_micros(event_timestamp) as event_datetime,
        event_name,
        user_pseudo_id,
        event_bundle_sequence_id,
        batch_event_index,
        {{ ga4_param('ga_session_id', 'int') }} as ga_session_id,
        {{ ga4_param('screener_state') }} as screener_state,
        {{ ga4_param('screener_uid') }} as screener_uid,
        {{ ga4_param('screener_step_name') }} as screener_step_name,
        {{ ga4_param('screener_step_number', 'int') }} as screener_step_number,
        {{ ga4_param('step_action') }} as step_action,
        {{ ga4_param('form_error_reason') }} as form_error_reason,
        {{ ga4_param('form_error_count', 'int') }} as form_error_count
    from events
),

keyed as (
    select
        *,
        {{ ga4_session_key() }} as session_key
    from extracted
)

-- CESN is a property of the whole session (landing events carry no marker)
select
    *,
    logical_or(screener_state = 'cesn' or starts_with(screener_step_name, 'cesn-'))
        over (partition by session_key) as is_cesn
from keyed
