{#- Per day x state (param, else URL) x location x channel x provider x action: share events
    and distinct screenings (the session when the share precedes the screening, e.g. from the
    footer before step 3). -#}

with shares as (
    select * from {{ ref('stg_ga_screener_shares') }}
    where {{ ga4_daily_floor() }}
        and event_name = 'screener_share'
)

select
    event_date_parsed,
    coalesce(screener_state, url_screener_state) as screener_state,
    share_location,
    share_channel,
    share_provider,
    share_action,
    count(*) as total_shares,
    count(distinct coalesce(screener_uid, session_key)) as screenings_with_share
from shares
where {{ ga4_daily_window() }}
group by 1, 2, 3, 4, 5, 6
