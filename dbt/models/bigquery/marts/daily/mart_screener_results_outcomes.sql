{#- Per day x state x is_cesn: distinct screenings whose results loaded / had no eligible
    program (the event or the '(not set)' impression proxy) / errored / recovered, and the
    average and approximate median program count and estimated value over loads. -#}

with outcomes as (
    {{ ga4_with_session_flags(ref('stg_ga_screener_results_outcomes'), ga4_daily_floor()) }}
)

select
    event_date_parsed,
    screener_state,
    is_cesn,
    count(distinct if(event_name = 'screener_results_loaded', screener_uid, null))
        as screenings_loaded,
    count(distinct if(event_name = 'screener_results_none_eligible', screener_uid, null))
        as screenings_none_eligible,
    count(distinct if(event_name = 'screener_results_error', screener_uid, null))
        as screenings_error,
    count(distinct if(event_name = 'screener_results_error_recovery', screener_uid, null))
        as screenings_error_recovered,
    round(avg(if(event_name = 'screener_results_loaded', program_count, null)), 2)
        as avg_program_count,
    round(approx_quantiles(if(event_name = 'screener_results_loaded', program_count, null), 2)[safe_offset(1)], 2)
        as median_program_count,
    round(avg(if(event_name = 'screener_results_loaded', total_estimated_value, null)), 2)
        as avg_estimated_value,
    round(approx_quantiles(if(event_name = 'screener_results_loaded', total_estimated_value, null), 2)[safe_offset(1)], 2)
        as median_estimated_value
from outcomes
where {{ ga4_daily_window() }}
group by event_date_parsed, screener_state, is_cesn
