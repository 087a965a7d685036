-- Share and save events (the share popup, the footer share, results saves).
with events as (
    {{ ga4_events(['screener_share', 'screener_share_popup_shown', 'screener_results_save']) }}
)

select
    {{ ga4_event_columns() }},
    {{ ga4_param('share_location') }} as share_location,
    {{ ga4_param('share_channel') }} as share_channel,
    {{ ga4_param('share_provider') }} as share_provider,
    {{ ga4_param('share_action') }} as share_action,
    {{ ga4_param('save_channel') }} as save_channel,
    {{ ga4_param('save_action') }} as save_action
from events
