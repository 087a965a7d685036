-- Page-chrome and results UI events: confirmation edits, sign-up consent, filters, NPS,
-- feedback, links, logo, language, social links, results "Back to Screener".
with events as (
    {{ ga4_events(['screener_confirmation_edit', 'screener_signup_completed',
                   'screener_filter_engaged', 'screener_nps_score_submitted',
                   'screener_nps_reason_submitted', 'screener_nps_reason_skipped',
                   'screener_feedback_click', 'screener_link_click', 'screener_logo_click',
                   'screener_language_changed', 'screener_social_click',
                   'screener_results_back_to_screener']) }}
)

select
    {{ ga4_event_columns() }},
    {{ ga4_param('screener_step_name') }} as screener_step_name,
    {{ ga4_param('section') }} as section,
    {{ ga4_param('filter_type') }} as filter_type,
    {{ ga4_param('sms_consent', 'any') }} as sms_consent,
    {{ ga4_param('email_consent', 'any') }} as email_consent,
    safe_cast(safe_cast({{ ga4_param('score', 'any') }} as float64) as int64) as nps_score,
    {{ ga4_param('channel') }} as feedback_channel,
    {{ ga4_param('link_name') }} as link_name,
    {{ ga4_param('link_location') }} as link_location,
    {{ ga4_param('location') }} as location,
    {{ ga4_param('network') }} as social_network,
    {{ ga4_param('language_name') }} as language_name
from events
