with sessions as (
    {{ ga4_sessions_sql(ga4_suffix_floor()) }}
)

select
    session_date,
    state_code,
    session_medium,
    session_source,
    count(*) as sessions,
    count(distinct user_pseudo_id) as users
from sessions
where session_date >= {{ ga4_window_start_date() }}
group by session_date, state_code, session_medium, session_source
