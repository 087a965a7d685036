{#- Per day x state x results filter type: screenings that used it and total uses (the
    chosen option is never sent). -#}

with filters as (
    select * from {{ ref('stg_ga_screener_ui_events') }}
    where {{ ga4_daily_floor() }}
        and event_name = 'screener_filter_engaged'
)

select
    event_date_parsed,
    screener_state,
    coalesce(filter_type, '(unknown)') as filter_type,
    count(distinct screener_uid) as screenings_engaged,
    count(*) as total_engagements
from filters
where {{ ga4_daily_window() }}
group by 1, 2, 3
