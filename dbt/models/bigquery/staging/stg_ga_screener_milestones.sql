-- Screening-level milestones: results shown, program details viewed, apply clicked.
with events as (
    select
        *,
        _table_suffix as table_suffix
    from {{ source('google_analytics', 'events') }}
    where _table_suffix between '{{ var("ga4_epoch_suffix") }}' and '99999999'
        and event_name in ('screener_form_step', 'screener_results_loaded', 'screener_program_more_info',
            'screener_apply_click')
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
        {{ ga4_param('program_id', 'any') }} as program_id
    from events
)

select
    *,
    {{ ga4_session_key() }} as session_key
from extracted
where screener_uid is not null
