{#- One row per session: furthest main-ladder rank, last-active day, state, is_cesn. The card
    counts each session at every rank up to its furthest. -#}
select
    session_key,
    furthest_step_rank,
    event_date_parsed,
    screener_state,
    is_cesn
from {{ ref('int_screener_furthest_step') }}
