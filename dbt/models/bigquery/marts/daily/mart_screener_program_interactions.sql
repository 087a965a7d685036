{#- Per day x state x program x interaction x document: events and distinct screenings.
    The '(not set)' placeholder program is excluded. -#}

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

select
    typed.event_date_parsed,
    typed.screener_state,
    typed.program_id,
    coalesce(names.program_name, typed.program_id) as program_name,
    typed.interaction_type,
    typed.document_name,
    count(*) as total_interactions,
    count(distinct typed.screener_uid) as screenings_with_interaction
from typed
left join names on typed.program_id = names.program_id
where {{ ga4_daily_window('typed.event_date_parsed') }}
    and typed.interaction_type is not null
    and typed.program_id != '(not set)'
group by 1, 2, 3, 4, 5, 6
