{#- Per first-view day x state: member-details pages viewed (a page = screening x
    member_index) and how many of those pages added / deleted an income source. Rows without a
    member_index are dropped. Full history, so a page keeps its first view day. -#}

with page_views as (
    select
        screener_uid,
        member_index,
        min(event_date_parsed) as event_date_parsed,
        max(screener_state) as screener_state
    from {{ ref('stg_ga_screener_form_funnel') }}
    where table_suffix >= '{{ var("ga4_history_start_suffix") }}'
        and event_name = 'screener_form_step'
        and step_action = 'view'
        and screener_step_name = 'member-details'
        and screener_uid is not null
        and member_index is not null
    group by screener_uid, member_index
),

income_actions as (
    select
        screener_uid,
        member_index,
        logical_or(action = 'add') as added,
        logical_or(action = 'delete') as deleted
    from {{ ref('stg_ga_screener_section_engagement') }}
    where table_suffix >= '{{ var("ga4_history_start_suffix") }}'
        and event_name = 'screener_income_source'
        and screener_uid is not null
        and member_index is not null
    group by screener_uid, member_index
)

select
    page_views.event_date_parsed,
    page_views.screener_state,
    count(*) as member_pages_viewed,
    countif(coalesce(income_actions.added, false)) as pages_added_income,
    countif(coalesce(income_actions.deleted, false)) as pages_deleted_income
from page_views
left join income_actions
    on page_views.screener_uid = income_actions.screener_uid
    and page_views.member_index = income_actions.member_index
group by 1, 2
