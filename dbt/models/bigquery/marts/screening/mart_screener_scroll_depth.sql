{#- Per first-scroll day x state x tab x furthest depth: screenings whose deepest threshold on
    that tab is that depth (a partition of the scrolling screenings, not cumulative). -#}

with per_screening as (
    select
        screener_uid,
        tab_name,
        min(event_date_parsed) as event_date_parsed,
        max(screener_state) as screener_state,
        max(depth) as furthest_depth
    from {{ ref('stg_ga_screener_scroll_depth') }}
    where table_suffix >= '{{ var("ga4_history_start_suffix") }}'
        and screener_uid is not null
        and depth is not null
    group by screener_uid, tab_name
)

select
    event_date_parsed,
    screener_state,
    tab_name,
    furthest_depth,
    count(*) as screenings_reached_depth
from per_screening
group by 1, 2, 3, 4
