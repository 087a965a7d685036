-- Per session since the epoch: the deepest main-ladder rank reached, from form-step views of ranked steps plus
-- screener_results_loaded (the results rank, until a `results` step view flows everywhere).
-- Greatest state, so a NULL pre-state row cannot win; session-wide is_cesn.
{%- set since_epoch = "table_suffix >= '" ~ var('ga4_epoch_suffix') ~ "'" %}
with form_events as (
    {{ ga4_with_session_flags(ref('stg_ga_screener_form_funnel'), since_epoch) }}
),

outcome_events as (
    {{ ga4_with_session_flags(ref('stg_ga_screener_results_outcomes'), since_epoch) }}
),

step_views as (
    select session_key, event_date_parsed, screener_state, is_cesn,
        {{ screener_step_rank('screener_step_name') }} as step_rank
    from form_events
    where event_name = 'screener_form_step' and step_action = 'view'
),

results_loads as (
    select session_key, event_date_parsed, screener_state,
        is_cesn,
        {{ screener_step_rank("'results'") }} as step_rank
    from outcome_events
    where event_name = 'screener_results_loaded'
),

ranked as (
    select * from step_views where step_rank is not null
    union all
    select * from results_loads
)

select
    session_key,
    max(step_rank) as furthest_step_rank,
    max(event_date_parsed) as event_date_parsed,
    max(screener_state) as screener_state,
    coalesce(logical_or(is_cesn), false) as is_cesn
from ranked
group by session_key
