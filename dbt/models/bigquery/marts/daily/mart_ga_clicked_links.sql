{{ config(cluster_by=['state_code']) }}
{#- Outbound clicks from results pages per click day x state x link domain x is_outbound:
    clicks, sessions, users. State from the session's page views, else 'unknown'; domain = the
    link_domain param, else the host of link_url. -#}

with clicks as (
    select * from {{ ref('stg_ga_link_clicks') }}
    where {{ ga4_daily_floor() }}
        and ga_session_id is not null
        and page_path like '%/results%'
),

session_states as (
    select session_key, max(state_code) as state_code
    from {{ ref('int_ga4_page_views') }}
    where {{ ga4_daily_floor() }}
    group by session_key
)

select
    clicks.event_date_parsed,
    coalesce(session_states.state_code, 'unknown') as state_code,
    coalesce(nullif(clicks.link_domain, ''),
             regexp_extract(clicks.link_url, r'^(?:[a-zA-Z]+://)?([^/?#:]+)')) as link_domain,
    clicks.is_outbound,
    count(*) as clicks,
    count(distinct clicks.session_key) as sessions,
    count(distinct clicks.user_pseudo_id) as users
from clicks
left join session_states on clicks.session_key = session_states.session_key
where {{ ga4_daily_window('clicks.event_date_parsed') }}
group by 1, 2, 3, 4
