{#- Per day x state x is_cesn x metric x dimension x contact method: clicks and distinct
    screenings. Metrics: tab_open (dimension = tab), resource_shown, resource_more_info,
    resource_click (dimension = resource; method website / phone). Distinct screenings do not
    add up across contact methods. -#}

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

select
    event_date_parsed,
    screener_state,
    is_cesn,
    metric,
    dimension,
    contact_method,
    count(*) as total_clicks,
    count(distinct screener_uid) as distinct_screenings
from metrics
where {{ ga4_daily_window() }}
group by 1, 2, 3, 4, 5, 6
