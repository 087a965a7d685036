{#- In-content link clicks (footer links excluded; with no location, the three legal links
    are chrome too). Group edit_nav = the results-page "edit this step" links (location
    results_needs, or the legacy name), else in_step. screenings = distinct sessions. -#}

with clicks as (
    select * from {{ ref('stg_ga_screener_ui_events') }}
    where {{ ga4_daily_floor() }}
        and event_name = 'screener_link_click'
)

select
    event_date_parsed,
    coalesce(screener_state, url_screener_state) as screener_state,
    if(link_location = 'results_needs' or link_name = 'Additional Resources — Edit Step',
       'edit_nav', 'in_step') as link_group,
    link_location,
    link_name as link_label,
    screener_step_name,
    count(*) as total_clicks,
    count(distinct session_key) as screenings
from clicks
where {{ ga4_daily_window() }}
    and coalesce(link_location != 'footer', true)
    and (link_location is not null
         or coalesce(link_name not in ('About Us', 'Privacy Policy', 'Terms and Conditions'), true))
group by 1, 2, 3, 4, 5, 6
