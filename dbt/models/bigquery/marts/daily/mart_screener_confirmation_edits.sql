{#- Per day x state x confirmation-page section: edits and distinct screenings. -#}

with edits as (
    select * from {{ ref('stg_ga_screener_ui_events') }}
    where {{ ga4_daily_floor() }}
        and event_name = 'screener_confirmation_edit'
)

select
    event_date_parsed,
    screener_state,
    {{ confirmation_section_label('section') }} as section_label,
    count(*) as edits,
    count(distinct screener_uid) as distinct_screenings
from edits
where {{ ga4_daily_window() }}
group by 1, 2, 3
