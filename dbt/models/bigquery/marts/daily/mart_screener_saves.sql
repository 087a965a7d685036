{#- Results saves, three disjoint row kinds per day x state:
    - per (save_channel, save_action): total_saves (events);
    - save_channel '__saved__' (action send): distinct screenings that saved;
    - save_channel '__popup_shown__' (action open): popup opens and distinct opening screenings. -#}

with saves as (
    select * from {{ ref('stg_ga_screener_shares') }}
    where {{ ga4_daily_floor() }}
        and event_name = 'screener_results_save'
        and {{ ga4_daily_window() }}
)

select
    event_date_parsed, screener_state, save_channel, save_action,
    count(*) as total_saves,
    cast(null as int64) as distinct_screenings
from saves
group by 1, 2, 3, 4

union all

select
    event_date_parsed, screener_state, '__saved__', 'send',
    cast(null as int64),
    count(distinct screener_uid)
from saves
where save_action = 'send'
group by 1, 2

union all

select
    event_date_parsed, screener_state, '__popup_shown__', 'open',
    count(*),
    count(distinct screener_uid)
from saves
where save_action = 'open'
group by 1, 2
