{#- Per day x state: screenings that clicked the results page "Back to Screener", and clicks. -#}

with clicks as (
    select * from {{ ref('stg_ga_screener_ui_events') }}
    where {{ ga4_daily_floor() }}
        and event_name = 'screener_results_back_to_screener'
)

select
    event_date_parsed,
    screener_state,
    count(distinct screener_uid) as screenings_went_back,
    count(*) as total_clicks
from clicks
where {{ ga4_daily_window() }}
group by 1, 2
