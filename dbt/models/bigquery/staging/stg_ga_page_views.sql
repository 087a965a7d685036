-- page_view events with the page location.
with events as (
    {{ ga4_events(['page_view']) }}
)

select
    {{ ga4_event_columns() }},
    {{ ga4_param('page_location') }} as page_location
from events
