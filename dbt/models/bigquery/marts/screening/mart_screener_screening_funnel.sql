{#- One row per screening (screener_uid) seen on any GA4 event, over the full export history:
    state of its earliest event with a known lowercase code (display names like 'Colorado'
    are skipped), first-event date (event_date_parsed = first_event_date), is_cesn (any event
    with state cesn), distinct sessions, and the cumulative flags saw_results (results loaded,
    more info or apply), viewed_details (more info or apply), applied. A screening first seen
    before the epoch keeps that date, so the cards' epoch floor excludes it. -#}

with events as (
    select * from {{ ref('stg_ga_screener_screening_events') }}
    where table_suffix >= '{{ var("ga4_history_start_suffix") }}'
),

per_screening as (
    select
        screener_uid,
        array_agg(if(screener_state in {{ screener_state_codes() }}, screener_state, null) ignore nulls
                  order by event_datetime, batch_event_index)[safe_offset(0)] as screener_state,
        min(event_date_parsed) as first_event_date,
        logical_or(coalesce(lower(screener_state) = 'cesn', false)) as is_cesn,
        count(distinct session_key) as distinct_sessions,
        logical_or(event_name = 'screener_results_loaded') as results_loaded,
        logical_or(event_name = 'screener_program_more_info') as more_info,
        logical_or(event_name = 'screener_apply_click') as applied
    from events
    group by screener_uid
)

select
    screener_uid,
    screener_state,
    first_event_date as event_date_parsed,
    first_event_date,
    is_cesn,
    distinct_sessions,
    results_loaded or more_info or applied as saw_results,
    more_info or applied as viewed_details,
    applied
from per_screening
