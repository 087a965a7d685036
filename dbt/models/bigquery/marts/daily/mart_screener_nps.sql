{#- Per day x state x NPS score: scores submitted, reasons submitted / skipped and feedback
    clicks (events); category Detractor <= 6, Passive 7-8, Promoter 9-10. -#}

with nps as (
    select * from {{ ref('stg_ga_screener_ui_events') }}
    where {{ ga4_daily_floor() }}
        and event_name in ('screener_nps_score_submitted', 'screener_nps_reason_submitted',
                           'screener_nps_reason_skipped', 'screener_feedback_click')
)

select
    event_date_parsed,
    screener_state,
    nps_score,
    case
        when nps_score <= 6 then 'Detractor'
        when nps_score <= 8 then 'Passive'
        when nps_score <= 10 then 'Promoter'
    end as nps_category,
    countif(event_name = 'screener_nps_score_submitted') as scores_submitted,
    countif(event_name = 'screener_nps_reason_submitted') as reasons_submitted,
    countif(event_name = 'screener_nps_reason_skipped') as reasons_skipped,
    countif(event_name = 'screener_feedback_click') as feedback_clicks
from nps
where {{ ga4_daily_window() }}
group by 1, 2, 3, 4
