-- MFB's own outbound_link event (GA4 enhanced measurement would be 'click').
with events as (
    {{ ga4_events(['outbound_link']) }}
),

extracted as (
    select
        {{ ga4_event_columns() }},
        {{ ga4_param('link_url') }} as link_url,
        {{ ga4_param('link_domain') }} as link_domain,
        {{ ga4_param('outbound', 'any') }} as is_outbound,
        {{ ga4_param('page_location') }} as page_location
    from events
)

select
    *,
    regexp_extract(page_location, r'^(?:https?://)?[^/?#]+(/[^?#]*)') as page_path
from extracted
