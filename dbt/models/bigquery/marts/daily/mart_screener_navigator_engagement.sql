{#- Per day x state x program x navigator x contact method: navigator contact clicks
    (website / email / phone) and impressions (contact_method '__shown__'). -#}

with interactions as (
    select * from {{ ref('stg_ga_screener_program_interactions') }}
    where {{ ga4_daily_floor() }}
        and event_name in ('screener_navigator_engaged', 'screener_navigator_shown')
),

navigator_names as (
    select navigator_id, max(navigator_name) as navigator_name
    from {{ ref('stg_ga_screener_program_interactions') }}
    where navigator_id is not null
    group by navigator_id
),

program_names as (
    select * from {{ ref('int_screener_program_names') }}
)

select
    interactions.event_date_parsed,
    interactions.screener_state,
    interactions.program_id,
    coalesce(program_names.program_name, interactions.program_id) as program_name,
    interactions.navigator_id,
    coalesce(navigator_names.navigator_name, interactions.navigator_id) as navigator_name,
    if(interactions.event_name = 'screener_navigator_shown', '__shown__',
       interactions.contact_method) as contact_method,
    count(*) as total_engagements,
    count(distinct interactions.screener_uid) as screenings_with_engagement
from interactions
left join program_names on interactions.program_id = program_names.program_id
left join navigator_names on interactions.navigator_id = navigator_names.navigator_id
where {{ ga4_daily_window('interactions.event_date_parsed') }}
group by 1, 2, 3, 4, 5, 6, 7
