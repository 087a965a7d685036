-- session_start events with traffic source params.
with events as (
    {{ ga4_events(['session_start']) }}
)

select
    {{ ga4_event_columns() }},
    {{ ga4_param('medium') }} as session_medium,
    {{ ga4_param('source') }} as session_source,
    {{ ga4_param('campaign') }} as session_campaign
from events
