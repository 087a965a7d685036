{#- One row per screening x section ("Household Members" / "Income Sources") x action: action
    count, state and last action day (full history). -#}

with actions as (
    select * from {{ ref('stg_ga_screener_section_engagement') }}
    where table_suffix >= '{{ var("ga4_history_start_suffix") }}'
        and screener_uid is not null
)

select
    screener_uid,
    if(event_name = 'screener_household_member', 'Household Members', 'Income Sources') as section,
    coalesce(action, '(unknown)') as action,
    count(*) as total_actions,
    max(screener_state) as screener_state,
    max(event_date_parsed) as event_date_parsed
from actions
group by 1, 2, 3
