-- Screener form events; screener_uid is NULL before step 3 (zip code). Row-level CESN markers:
-- the marts turn them into the session-wide is_cesn / cesn_path (ga4_with_session_flags), since
-- landing events carry no marker.
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
    * except (screener_path),
    coalesce(lower(screener_state) = 'cesn' or starts_with(screener_step_name, 'cesn-'), false)
        as is_cesn_event,
    if(lower(trim(screener_path)) in ('homeowner', 'renter'), lower(trim(screener_path)), null)
        as cesn_path_param
from extracted
