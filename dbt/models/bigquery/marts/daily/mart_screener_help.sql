{#- Per day x state x metric x dimension x step: help tooltip clicks (dimension = topic),
    "More Help?" CTA clicks (dimension = location) and More Help resource clicks (dimension =
    resource label); clicks and distinct screenings. -#}

with help as (
    select * from {{ ref('stg_ga_screener_help') }}
    where {{ ga4_daily_floor() }}
),

classified as (
    select
        event_date_parsed,
        screener_state,
        screener_uid,
        screener_step_name,
        case event_name
            when 'screener_help_click' then 'help_click'
            when 'screener_get_help_click' then 'get_help_click'
            else 'more_help_resource_click'
        end as metric,
        case event_name
            when 'screener_help_click' then coalesce(help_topic, '(unspecified)')
            when 'screener_get_help_click' then coalesce(location, '(unspecified)')
            else {{ more_help_resource_label('resource_name', 'url', 'resource_index') }}
        end as dimension
    from help
    where {{ ga4_daily_window() }}
)

select
    event_date_parsed,
    screener_state,
    metric,
    dimension,
    screener_step_name,
    {{ screener_step_label('screener_step_name') }} as step_label,
    count(*) as total_clicks,
    count(distinct screener_uid) as distinct_screenings
from classified
group by 1, 2, 3, 4, 5, 6
