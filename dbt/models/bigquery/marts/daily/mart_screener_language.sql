{#- Per day x state (param, else URL) x language switched to: changes and distinct sessions
    (column distinct_screenings: the header switch fires before a screening exists). -#}

with changes as (
    select * from {{ ref('stg_ga_screener_ui_events') }}
    where {{ ga4_daily_floor() }}
        and event_name = 'screener_language_changed'
)

select
    event_date_parsed,
    coalesce(screener_state, url_screener_state) as screener_state,
    language_name,
    count(*) as total_changes,
    count(distinct session_key) as distinct_screenings
from changes
where {{ ga4_daily_window() }}
group by 1, 2, 3
