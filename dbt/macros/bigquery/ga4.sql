{#-
  GA4 helpers (BigQuery target).

  Scans of the events_* wildcard are pruned on _table_suffix with *constant* expressions only
  (BigQuery does not prune on subqueries): the epoch var on full builds, and
  current_date() - ga4_lookback_days on incremental builds, so the nightly run reads only the
  trailing days GA4 may still rewrite. Suffixes are bounded above by '99999999', which also
  keeps the events_intraday_* shards out.
-#}

{#- is_incremental(), or a fixed answer when compiling offline (no BigQuery connection):
    dbt compile --target bigquery --vars '{offline_compile: true, offline_incremental: true}' -#}
{% macro ga4_is_incremental() -%}
  {%- if var('offline_compile', false) -%}
    {{ return(var('offline_incremental', false)) }}
  {%- else -%}
    {{ return(is_incremental()) }}
  {%- endif -%}
{%- endmacro %}

{#- One event parameter. kind: string | int | double | any (any = first non-null, as string). -#}
{% macro ga4_param(key, kind='string') -%}
  {%- if kind == 'any' -%}
    (select coalesce(p.value.string_value, cast(p.value.int_value as string),
                     cast(p.value.double_value as string))
     from unnest(event_params) as p where p.key = '{{ key }}' limit 1)
  {%- else -%}
    (select p.value.{{ kind }}_value from unnest(event_params) as p where p.key = '{{ key }}' limit 1)
  {%- endif -%}
{%- endmacro %}

{#- First day (DATE expression) an incremental build recomputes. -#}
{% macro ga4_window_start_date() -%}
  {%- set epoch = "parse_date('%Y%m%d', '" ~ var('ga4_epoch_suffix') ~ "')" -%}
  {%- if ga4_is_incremental() -%}
    greatest({{ epoch }}, date_sub(current_date(), interval {{ var('ga4_lookback_days') | int }} day))
  {%- else -%}
    {{ epoch }}
  {%- endif -%}
{%- endmacro %}

{#- Lowest _table_suffix to read; `margin_days` earlier than the window so sessions that began
    before midnight are seen whole. -#}
{% macro ga4_suffix_floor(margin_days=1) -%}
  {%- if ga4_is_incremental() -%}
    format_date('%Y%m%d', date_sub({{ ga4_window_start_date() }}, interval {{ margin_days | int }} day))
  {%- else -%}
    '{{ var("ga4_epoch_suffix") }}'
  {%- endif -%}
{%- endmacro %}

{#- The session key: ga_session_id is unique only per user. -#}
{% macro ga4_session_key(user_col='user_pseudo_id', session_col='ga_session_id') -%}
  to_json_string(struct({{ user_col }} as user_pseudo_id, {{ session_col }} as ga_session_id))
{%- endmacro %}

{#- The first URL path segment when it is exactly one of screener_state_slugs. -#}
{% macro url_screener_state(url) -%}
  (select seg from unnest([regexp_extract({{ url }}, r'^(?:https?://)?[^/]+/([^/?#]+)')]) as seg
   where seg in ('{{ var("screener_state_slugs") | join("', '") }}'))
{%- endmacro %}

{#- Session-grain rows (see int_ga4_sessions) over events with table_suffix >= suffix_floor:
    one row per session that has a session_start event with a session id. -#}
{% macro ga4_sessions_sql(suffix_floor) %}
with page_views as (
    select * from {{ ref('int_ga4_page_views') }}
    where table_suffix >= {{ suffix_floor }}
),

session_starts as (
    select * from {{ ref('stg_ga_sessions') }}
    where table_suffix >= {{ suffix_floor }}
        and ga_session_id is not null
),

link_clicks as (
    select * from {{ ref('stg_ga_link_clicks') }}
    where table_suffix >= {{ suffix_floor }}
),

traffic as (
    select
        session_key,
        any_value(user_pseudo_id) as user_pseudo_id,
        min(event_date_parsed) as session_date,
        max(session_medium) as session_medium,
        max(session_source) as session_source,
        max(session_campaign) as session_campaign
    from session_starts
    group by session_key
),

page_sessions as (
    select
        session_key,
        max(state_code) as state_code,
        logical_or(page_path like '%/step-1%') as hit_screener_start,
        logical_or(page_path like '%/results%') as hit_screener_results,
        min(if(page_path like '%/step-1%', event_datetime, null)) as first_start_at,
        min(if(page_path like '%/results%', event_datetime, null)) as first_results_at
    from page_views
    group by session_key
),

clicks as (
    select
        link_clicks.session_key,
        countif(link_clicks.is_outbound = 'true') as total_link_clicks,
        min(if(link_clicks.is_outbound = 'true'
               and link_clicks.event_datetime > page_sessions.first_results_at,
               link_clicks.event_datetime, null)) as first_outbound_click_ts
    from link_clicks
    inner join page_sessions on link_clicks.session_key = page_sessions.session_key
    group by link_clicks.session_key
)

select
    traffic.session_key,
    traffic.user_pseudo_id,
    traffic.session_date,
    coalesce(page_sessions.state_code, 'unknown') as state_code,
    coalesce(traffic.session_medium, '(none)') as session_medium,
    coalesce(traffic.session_source, '(direct)') as session_source,
    traffic.session_campaign,
    coalesce(page_sessions.hit_screener_start, false) as hit_screener_start,
    coalesce(page_sessions.hit_screener_results, false) as hit_screener_results,
    case
        when timestamp_diff(page_sessions.first_results_at, page_sessions.first_start_at, second) >= 20
            then timestamp_diff(page_sessions.first_results_at, page_sessions.first_start_at, second)
    end as completion_time_seconds,
    clicks.first_outbound_click_ts is not null as has_outbound_click,
    clicks.first_outbound_click_ts,
    coalesce(clicks.total_link_clicks, 0) as total_link_clicks
from traffic
left join page_sessions on traffic.session_key = page_sessions.session_key
left join clicks on traffic.session_key = clicks.session_key
{% endmacro %}
