-- In-step interactions: member and income actions, benefit-load errors, language changes,
-- confirmation-page edits and proceeds.
with events as (
    {{ ga4_events(['screener_household_member', 'screener_income_source',
                   'screener_has_benefits_load_error', 'screener_language_changed',
                   'screener_confirmation_edit', 'screener_confirmation_proceed']) }}
)

select
    {{ ga4_event_columns() }},
    {{ ga4_param('screener_step_name') }} as screener_step_name,
    {{ ga4_param('screener_step_number', 'int') }} as screener_step_number,
    {{ ga4_param('action') }} as action,
    {{ ga4_param('language_name') }} as language_name,
    {{ ga4_param('section') }} as section
from events
