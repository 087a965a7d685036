{#- The resource-engagement metrics as distinct rows per screening (exact distinct counts
    across days and dimensions). -#}

with events as (
    {{ ga4_with_session_flags(ref('stg_ga_screener_resource_engagement'), ga4_daily_floor()) }}
),

metrics as (
    select
        *,
        {{ label_case('event_name', [
            ('screener_results_tab_click', 'tab_open'),
            ('screener_resource_shown', 'resource_shown'),
            ('screener_additional_resource_more_info', 'resource_more_info'),
            ('screener_additional_resource_click', 'resource_click'),
        ], 'cast(null as string)') }} as metric,
        if(event_name = 'screener_results_tab_click', tab_name, resource_name) as dimension
    from events
)

select distinct
    event_date_parsed,
    screener_state,
    is_cesn,
    metric,
    dimension,
    contact_method,
    screener_uid
from metrics
where {{ ga4_daily_window() }}
    and screener_uid is not null
