{#- One row per element_group x element x session: page-chrome clicks.
    nav: "Logo (header|footer|unknown)", "Changed Language", About Us / Privacy Policy / Terms
    and Conditions (by link name, wherever clicked); social: the network, title-cased;
    feedback_share: "Report a Bug" (survey), "Contact Us" (email), "Share" (footer share opens).
    State = the greatest state (param, else URL) over the whole session; date = last active. -#}

with ui as (
    select * from {{ ref('stg_ga_screener_ui_events') }}
    where table_suffix >= '{{ var("ga4_epoch_suffix") }}'
),

shares as (
    select * from {{ ref('stg_ga_screener_shares') }}
    where table_suffix >= '{{ var("ga4_epoch_suffix") }}'
),

classified as (
    select
        session_key,
        event_date_parsed,
        coalesce(screener_state, url_screener_state) as row_state,
        case
            when event_name in ('screener_logo_click', 'screener_language_changed')
                or (event_name = 'screener_link_click'
                    and link_name in ('About Us', 'Privacy Policy', 'Terms and Conditions'))
                then 'nav'
            when event_name = 'screener_social_click' then 'social'
            when event_name = 'screener_feedback_click'
                and feedback_channel in ('survey', 'email') then 'feedback_share'
        end as element_group,
        case
            when event_name = 'screener_logo_click' then
                concat('Logo (', if(location in ('header', 'footer'), location, 'unknown'), ')')
            when event_name = 'screener_language_changed' then 'Changed Language'
            when event_name = 'screener_link_click' then link_name
            when event_name = 'screener_social_click' then initcap(social_network)
            when feedback_channel = 'survey' then 'Report a Bug'
            when feedback_channel = 'email' then 'Contact Us'
        end as element
    from ui

    union all

    select
        session_key,
        event_date_parsed,
        coalesce(screener_state, url_screener_state),
        'feedback_share',
        'Share'
    from shares
    where event_name = 'screener_share' and share_location = 'footer' and share_action = 'open'
),

session_states as (
    select session_key, max(row_state) as screener_state, max(event_date_parsed) as last_active
    from (
        select session_key, coalesce(screener_state, url_screener_state) as row_state,
            event_date_parsed
        from ui
        union all
        select session_key, coalesce(screener_state, url_screener_state), event_date_parsed
        from shares
    )
    group by session_key
)

select
    classified.element_group,
    classified.element,
    classified.session_key,
    session_states.last_active as event_date_parsed,
    session_states.screener_state,
    count(*) as clicks
from classified
inner join session_states on classified.session_key = session_states.session_key
where classified.element_group is not null and classified.element is not null
group by 1, 2, 3, 4, 5
