{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key='screener_uid',
    cluster_by=['screener_state'],
) }}
{#- One row per screening (screener_uid): the Screener Conversion Funnel card counts screenings
    created -> saw results -> viewed details -> clicked apply. Incremental: screenings with events
    in the lookback window are recomputed over var ga4_screening_horizon_days before the window
    (a screening spans days at most; the shards read stay bounded) and merged on screener_uid. -#}
{%- set known_states = "('" ~ var('screener_state_slugs') | join("', '") ~ "')" %}

with milestones as (
    select * from {{ ref('stg_ga_screener_milestones') }}
    {%- if ga4_is_incremental() %}
    where table_suffix >= format_date('%Y%m%d', date_sub({{ ga4_window_start_date() }},
                                      interval {{ var('ga4_screening_horizon_days', 30) | int }} day))
    {%- endif %}
),

{%- if ga4_is_incremental() %}

touched as (
    select distinct screener_uid
    from milestones
    where event_date_parsed >= {{ ga4_window_start_date() }}
),

scoped as (
    select milestones.*
    from milestones
    inner join touched on milestones.screener_uid = touched.screener_uid
),
{%- else %}

scoped as (
    select * from milestones
),
{%- endif %}

per_screening as (
    select
        screener_uid,
        array_agg(if(screener_state in {{ known_states }}, screener_state, null) ignore nulls
                  order by event_datetime)[safe_offset(0)] as screener_state,
        min(event_date_parsed) as first_event_date,
        logical_or(screener_state = 'cesn' or starts_with(screener_step_name, 'cesn-')) as is_cesn,
        count(distinct session_key) as distinct_sessions,
        logical_or(event_name = 'screener_results_loaded') as saw_results,
        logical_or(event_name = 'screener_program_more_info') as viewed_details,
        logical_or(event_name = 'screener_apply_click') as applied
    from scoped
    group by screener_uid
)

select
    screener_uid,
    screener_state,
    first_event_date,
    coalesce(is_cesn, false) as is_cesn,
    distinct_sessions,
    saw_results or viewed_details or applied as saw_results,
    viewed_details or applied as viewed_details,
    applied
from per_screening
