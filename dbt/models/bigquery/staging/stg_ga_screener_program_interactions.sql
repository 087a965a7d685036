-- Results-page program, navigator and document events, plus one row per view_item_list item
-- (impressions): results_programs -> screener_program_shown, results_navigators ->
-- screener_navigator_shown, results_documents -> screener_program_document_shown (the parent
-- program in item_category). program_id / navigator_id arrive as int or string params.
with events as (
    {{ ga4_events(['screener_apply_click', 'screener_program_more_info',
                   'screener_program_visit_website', 'screener_program_phone_click',
                   'screener_program_document_download', 'screener_required_program_click',
                   'screener_filter_engaged', 'screener_results_tab_click',
                   'screener_navigator_engaged', 'view_item_list']) }}
),

param_events as (
    select
        {{ ga4_event_columns() }},
        {{ ga4_param('program_id', 'any') }} as program_id,
        {{ ga4_param('program_name') }} as program_name,
        {{ ga4_param('url') }} as url,
        {{ ga4_param('document_name') }} as document_name,
        {{ ga4_param('filter_type') }} as filter_type,
        {{ ga4_param('tab_name') }} as tab_name,
        {{ ga4_param('navigator_id', 'any') }} as navigator_id,
        {{ ga4_param('navigator_name') }} as navigator_name,
        {{ ga4_param('contact_method') }} as contact_method
    from events
    where event_name != 'view_item_list'
),

item_events as (
    select
        {{ ga4_event_columns(
            event_name="case item.item_list_name
                when 'results_programs' then 'screener_program_shown'
                when 'results_navigators' then 'screener_navigator_shown'
                else 'screener_program_document_shown' end",
            batch_offset='item_position') }},
        if(item.item_list_name = 'results_programs', item.item_id, item.item_category)
            as program_id,
        if(item.item_list_name = 'results_programs', item.item_name, cast(null as string))
            as program_name,
        cast(null as string) as url,
        if(item.item_list_name = 'results_documents', item.item_name, cast(null as string))
            as document_name,
        cast(null as string) as filter_type,
        cast(null as string) as tab_name,
        if(item.item_list_name = 'results_navigators', item.item_id, cast(null as string))
            as navigator_id,
        if(item.item_list_name = 'results_navigators', item.item_name, cast(null as string))
            as navigator_name,
        cast(null as string) as contact_method
    from events
    cross join unnest(events.items) as item with offset as item_position
    where events.event_name = 'view_item_list'
        and item.item_list_name in ('results_programs', 'results_navigators', 'results_documents')
)

select * from param_events
union all
select * from item_events
