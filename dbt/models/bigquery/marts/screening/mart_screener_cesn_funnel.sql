{#- One row per CESN session: the furthest rank on the combined CESN ladder, from form_start
    (rank 0) and step views of CESN rungs (ranks > 0; results only through a `results` step
    view), with the last-active day, state and path (homeowner / renter). -#}

with flagged as (
    {{ ga4_with_session_flags(ref('stg_ga_screener_form_funnel'),
                              "table_suffix >= '" ~ var('ga4_epoch_suffix') ~ "'", cesn_path=true) }}
),

events as (
    select
        *,
        case
            when event_name = 'screener_form_start' then 0
            when event_name = 'screener_form_step' and step_action = 'view'
                then {{ screener_cesn_rank('screener_step_name') }}
        end as cesn_rank
    from flagged
    where is_cesn
)

select
    session_key,
    max(cesn_rank) as furthest_step_rank,
    max(event_date_parsed) as event_date_parsed,
    max(screener_state) as screener_state,
    max(cesn_path) as cesn_path
from events
where cesn_rank is not null
group by session_key
