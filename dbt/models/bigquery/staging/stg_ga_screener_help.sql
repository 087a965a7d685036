-- Help tooltips, the results "More Help?" CTA and its resource links.
with events as (
    {{ ga4_events(['screener_help_click', 'screener_get_help_click',
                   'screener_more_help_resource_click']) }}
)

select
    {{ ga4_event_columns() }},
    {{ ga4_param('help_topic') }} as help_topic,
    {{ ga4_param('screener_step_name') }} as screener_step_name,
    {{ ga4_param('screener_step_number', 'int') }} as screener_step_number,
    {{ ga4_param('location') }} as location,
    {{ ga4_param('resource_name') }} as resource_name,
    {{ ga4_param('resource_index', 'int') }} as resource_index,
    {{ ga4_param('url') }} as url
from events
