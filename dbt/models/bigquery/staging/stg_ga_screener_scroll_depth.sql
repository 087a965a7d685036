-- Results-page scroll thresholds (25/50/75/100; int or numeric-text param) per tab.
with events as (
    {{ ga4_events(['screener_results_scroll_depth']) }}
)

select
    {{ ga4_event_columns() }},
    safe_cast(safe_cast({{ ga4_param('depth', 'any') }} as float64) as int64) as depth,
    {{ ga4_param('tab_name') }} as tab_name
from events
