with sessions as (
    {{ ga4_sessions_sql(ga4_suffix_floor()) }}
)

select
    session_date,
    state_code,
    count(*) as sessions,
    count(distinct user_pseudo_id) as users,
    countif(hit_screener_start) as started,
    countif(hit_screener_start and hit_screener_results) as completed,
    countif(hit_screener_start and hit_screener_results and has_outbound_click)
        as clicked_after_completion,
    round(100 * safe_divide(countif(hit_screener_start), count(*)), 2) as pct_started,
    round(100 * safe_divide(
        countif(hit_screener_start and hit_screener_results and has_outbound_click),
        countif(hit_screener_start and hit_screener_results)), 2) as completed_to_click_pct,
    round(avg(completion_time_seconds), 1) as avg_completion_seconds,
    round(approx_quantiles(completion_time_seconds, 2)[safe_offset(1)], 1)
        as median_completion_seconds
from sessions
where session_date >= {{ ga4_window_start_date() }}
group by session_date, state_code
