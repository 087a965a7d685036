-- Results page outcomes. A view_item_list whose results_programs list is exactly one
-- '(not set)' item (GA4's placeholder for an empty list) is also a none-eligible outcome,
-- from the epoch on (impressions were wrong before it). Row-level CESN marker is_cesn_event
-- (the marts make it session-wide).
with events as (
    {{ ga4_events(['screener_results_loaded', 'screener_results_none_eligible',
                   'screener_results_error', 'screener_results_error_recovery',
                   'view_item_list']) }}
),

extracted as (
    select
        {{ ga4_event_columns(event_name="if(event_name = 'view_item_list', 'screener_results_none_eligible', event_name)") }},
        {{ ga4_param('program_count', 'int') }} as program_count,
        coalesce({{ ga4_param('total_estimated_value', 'double') }},
                 cast({{ ga4_param('total_estimated_value', 'int') }} as float64))
            as total_estimated_value,
        {{ ga4_param('reference_id', 'any') }} as reference_id,
        event_name = 'view_item_list' as is_impression_proxy
    from events
    where event_name != 'view_item_list'
        or (
            table_suffix >= '{{ var("ga4_epoch_suffix") }}'
            and (select count(*) from unnest(items) as i where i.item_list_name = 'results_programs') = 1
            and (select count(*) from unnest(items) as i
                 where i.item_list_name = 'results_programs' and i.item_id = '(not set)') = 1
        )
)

select
    *,
    coalesce(lower(screener_state) = 'cesn', false) as is_cesn_event
from extracted
where not is_impression_proxy or screener_uid is not null
