{#-
  GA4 staging helpers. Every staging view reads the events_* wildcard between the constant
  var ga4_history_start_suffix (the first raw shard) and '99999999' (which keeps the
  events_intraday_* shards out); the marts then narrow the scan with constant _table_suffix
  bounds of their own (the epoch, or the incremental lookback), which BigQuery pushes through
  the views to prune shards. Screening-grain marts whose date is a *first* event read the full
  history, so a screening first seen before the epoch keeps its real first date (and the
  cards' epoch floor excludes it) instead of being re-dated into the window.
-#}

{#- The raw events of `event_names` (none = every event). -#}
{% macro ga4_events(event_names=none) -%}
    select
        *,
        _table_suffix as table_suffix
    from {{ source('google_analytics', 'events') }}
    where _table_suffix between '{{ var("ga4_history_start_suffix") }}' and '99999999'
    {%- if event_names %}
        and event_name in ('{{ event_names | join("', '") }}')
    {%- endif %}
{%- endmacro %}

{#- Event identity, session key, state params; `batch_offset` shifts batch_event_index for rows
    unnested from items (several rows per raw event). -#}
{% macro ga4_event_columns(event_name='event_name', batch_offset=none) -%}
        table_suffix,
        parse_date('%Y%m%d', event_date) as event_date_parsed,
        timestamp_micros(event_timestamp) as event_datetime,
        {{ event_name }} as event_name,
        user_pseudo_id,
        user_id,
        event_bundle_sequence_id,
        {%- if batch_offset %}
        batch_event_index * 1000 + {{ batch_offset }} as batch_event_index,
        {%- else %}
        batch_event_index,
        {%- endif %}
        {{ ga4_param('ga_session_id', 'int') }} as ga_session_id,
        to_json_string(struct(
            user_pseudo_id as user_pseudo_id, {{ ga4_param('ga_session_id', 'int') }} as ga_session_id
        )) as session_key,
        {{ ga4_param('screener_state') }} as screener_state,
        {{ ga4_param('screener_uid') }} as screener_uid,
        {{ url_screener_state(ga4_param('page_location')) }} as url_screener_state
{%- endmacro %}

{#- ('co', 'nc', ...): the known lowercase state codes. -#}
{% macro screener_state_codes() -%}
    ('{{ var("screener_state_slugs") | join("', '") }}')
{%- endmacro %}

{#- Lower bound of a mart's scan: the epoch on full builds, the lookback on incremental ones. -#}
{% macro ga4_daily_floor() -%}
    table_suffix >= {{ ga4_suffix_floor(1) }}
{%- endmacro %}

{#- Window on the mart's own date (the scan floor above has a day of margin for sessions that
    began before midnight). -#}
{% macro ga4_daily_window(date_column='event_date_parsed') -%}
    {{ date_column }} >= {{ ga4_window_start_date() }}
{%- endmacro %}

{#- A CASE mapping `column` through `mapping` (a list of (value, label)); unmapped -> `default`
    (a SQL expression, e.g. the column itself). -#}
{% macro label_case(column, mapping, default) -%}
    case {{ column }}
    {%- for value, label in mapping %}
        when '{{ value }}' then '{{ label | replace("'", "\\'") }}'
    {%- endfor %}
        else {{ default }}
    end
{%- endmacro %}

{#- Rows of a staging `relation` within `where` (the mart's constant _table_suffix bound), with
    the session-wide flags: is_cesn (any row of the session is a CESN row) and, with
    cesn_path=true, the session's CESN path (the homeowner / renter param, else inferred from
    reaching cesn-appliances / cesn-energy-expenses). Staging views stay free of window
    functions, so BigQuery can push the mart's suffix bound into the wildcard scan; the window
    runs here, after the bound. -#}
{% macro ga4_with_session_flags(relation, where, cesn_path=false) -%}
    select
        *,
        logical_or(coalesce(is_cesn_event, false)) over (partition by session_key) as is_cesn
        {%- if cesn_path %},
        coalesce(
            max(cesn_path_param) over (partition by session_key),
            if(logical_or(coalesce(screener_step_name = 'cesn-appliances', false))
                   over (partition by session_key), 'homeowner', null),
            if(logical_or(coalesce(screener_step_name = 'cesn-energy-expenses', false))
                   over (partition by session_key), 'renter', null)
        ) as cesn_path
        {%- endif %}
    from {{ relation }}
    where {{ where }}
{%- endmacro %}
