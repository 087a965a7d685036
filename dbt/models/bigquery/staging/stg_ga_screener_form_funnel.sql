-- Screener form events; screener_uid is NULL before step 3 (zip code). is_cesn and cesn_path
-- are properties of the whole session (landing events carry no marker).
with events as (
    {{ ga4_events(['screener_form_start', 'screener_form_step', 'screener_form_complete',
                   'screener_form_error', 'screener_form_back']) }}
),

extracted as (
    select
        {{ ga4_event_columns() }},
        {{ ga4_param('screener_path') }} as screener_path,
        {{ ga4_param('screener_step_name') }} as screener_step_name,
        {{ ga4_param('screener_step_number', 'int') }} as screener_step_number,
        {{ ga4_param('step_action') }} as step_action,
        {{ ga4_param('member_index', 'int') }} as member_index,
        {{ ga4_param('form_field_name') }} as form_field_name,
        {{ ga4_param('form_error_reason') }} as form_error_reason,
        {{ ga4_param('form_error_message') }} as form_error_message,
        {{ ga4_param('form_error_count', 'int') }} as form_error_count
    from events
)

select
    *,
    logical_or(coalesce(lower(screener_state) = 'cesn' or starts_with(screener_step_name, 'cesn-'), false))
        over (partition by session_key) as is_cesn,
    coalesce(
        max(if(lower(trim(screener_path)) in ('homeowner', 'renter'), lower(trim(screener_path)), null))
            over (partition by session_key),
        if(logical_or(coalesce(screener_step_name = 'cesn-appliances', false))
               over (partition by session_key), 'homeowner', null),
        if(logical_or(coalesce(screener_step_name = 'cesn-energy-expenses', false))
               over (partition by session_key), 'renter', null)
    ) as cesn_path
from extracted
