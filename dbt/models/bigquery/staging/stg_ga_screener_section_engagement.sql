-- Household-member and income-source actions (add / edit / delete / ...).
with events as (
    {{ ga4_events(['screener_household_member', 'screener_income_source']) }}
)

select
    {{ ga4_event_columns() }},
    {{ ga4_param('action') }} as action,
    {{ ga4_param('member_index', 'int') }} as member_index
from events
