{#- Distinct (day, state, interaction, program, document, screening): screening-grain counts
    for the Document Downloads card. Keeps the '(not set)' placeholder. -#}

with interactions as (
    select * from {{ ref('stg_ga_screener_program_interactions') }}
    where {{ ga4_daily_floor() }}
),

typed as (
    select
        *,
        {{ program_interaction_type('event_name') }} as interaction_type
    from interactions
),

names as (
    select * from {{ ref('int_screener_program_names') }}
)

select distinct
    typed.event_date_parsed,
    typed.screener_state,
    typed.interaction_type,
    typed.program_id,
    coalesce(names.program_name, typed.program_id) as program_name,
    typed.document_name,
    typed.screener_uid
from typed
left join names on typed.program_id = names.program_id
where {{ ga4_daily_window('typed.event_date_parsed') }}
    and typed.interaction_type is not null
    and typed.screener_uid is not null
