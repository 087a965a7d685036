-- page_view events with the page location.
with events as (
    select
        *,
        _table_suffix as table_suffix
    from {{ source('google_analytics', 'events') }}
    where _table_suffix between '{{ var("ga4_epoch_suffix") }}' and '99999999'
        and event_name in ('page_view')
),

extracted as (
    select
        table_suffix,
        parse_date('%Y%m%d', event_date) as event_date_parsed,
        timestamp_micros(event_timestamp) as event_datetime,
        event_name,
        user_pseudo_id,
        event_bundle_sequence_id,
        batch_event_index,
        {{ ga4_param('ga_session_id', 'int') }} as ga_session_id,
        {{ ga4_param('page_location') }} as page_location
    from events
)

select
    *,
    {{ ga4_session_key() }} as session_key
from extracted
