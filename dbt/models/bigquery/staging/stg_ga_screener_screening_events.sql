-- Every GA4 event, of any name, that carries a screener_uid (the screening's identity), over the
-- full export history: the screening funnel dates a screening by its first event.
with events as (
    {{ ga4_events() }}
),

extracted as (
    select
        {{ ga4_event_columns() }},
        {{ ga4_param('screener_step_name') }} as screener_step_name
    from events
)

select * from extracted
where screener_uid is not null
