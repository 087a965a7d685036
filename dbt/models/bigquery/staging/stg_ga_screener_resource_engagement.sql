-- Results tabs and additional (non-program) resources; view_item_list items of list
-- results_resources become screener_resource_shown rows. Row-level CESN marker is_cesn_event
-- (the marts make it session-wide).
with events as (
    {{ ga4_events(['screener_results_tab_click', 'screener_additional_resource_more_info',
                   'screener_additional_resource_click', 'view_item_list']) }}
),

param_events as (
    select
        {{ ga4_event_columns() }},
        {{ ga4_param('tab_name') }} as tab_name,
        {{ ga4_param('resource_name') }} as resource_name,
        {{ ga4_param('url') }} as url,
        {{ ga4_param('contact_method') }} as contact_method
    from events
    where event_name != 'view_item_list'
),

item_events as (
    select
        {{ ga4_event_columns(event_name="'screener_resource_shown'", batch_offset='item_position') }},
        cast(null as string) as tab_name,
        item.item_name as resource_name,
        cast(null as string) as url,
        cast(null as string) as contact_method
    from events
    cross join unnest(events.items) as item with offset as item_position
    where events.event_name = 'view_item_list' and item.item_list_name = 'results_resources'
),

unioned as (
    select * from param_events
    union all
    select * from item_events
)

select
    *,
    coalesce(lower(screener_state) = 'cesn', false) as is_cesn_event
from unioned
