{#-
  Incremental Postgres marts are rebuilt per *screen*: every screen changed since the mart's
  newest `source_updated_at` (minus var incremental_lookback_hours) is "in scope"; its rows are
  deleted and recomputed from the sources. This handles late updates (a newer eligibility
  snapshot, a screen completed later, a re-submitted household whose members/income changed,
  a screen later flagged as test data, which simply disappears). Change detection reads the two
  timestamps Django maintains: screener_screen.submission_date and
  screener_eligibilitysnapshot.submission_date (auto_now). Edits that move neither (Django admin
  edits, renamed referrers/programs) need `dbt build --full-refresh`.

  Mechanics: a pre-hook (capture_screen_scope) stores the scope in a temp table that lives for
  the model's transaction; the model restricts every source scan with in_scope(); the custom
  strategy `replace_screens` deletes the scope's rows and inserts the new batch.
-#}

{% macro scope_relation() -%}
  pg_temp.{{ adapter.quote(this.identifier ~ '__scope') }}
{%- endmacro %}

{% macro capture_screen_scope() %}
  {%- if is_incremental() -%}
  {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
  {%- if 'source_updated_at' not in columns -%}
    {{ exceptions.raise_compiler_error(
        this ~ " exists but was not built by this project's incremental model (it has no "
        ~ "source_updated_at column, e.g. the table of the previous pipeline): rebuild it once "
        ~ "with `dbt build --full-refresh` (nightly workflow: run it with full_refresh=true)") }}
  {%- endif -%}
-- The batch is small (a few % of the screens): JIT compilation (~1.5 s a statement) costs more
-- than it saves, and index lookups on the FK indexes beat full scans of the Django tables
-- (random_page_cost 1.1 = SSD storage with the hot pages cached). Both last for this model's
-- transaction only.
set local jit = off;
set local random_page_cost = 1.1;
drop table if exists {{ scope_relation() }};
create temporary table {{ adapter.quote(this.identifier ~ '__scope') }} on commit drop as
select distinct changes.screen_id
from {{ ref('int_screen_changes') }} as changes
where changes.changed_at >= (
    select coalesce(max(source_updated_at), '-infinity'::timestamptz)
        - interval '{{ var("incremental_lookback_hours") | int }} hours'
    from {{ this }}
);
create unique index on {{ scope_relation() }} (screen_id);
analyze {{ scope_relation() }};
  {%- else -%}
select 1
  {%- endif -%}
{% endmacro %}

{#- A predicate restricting `column` (a screen id) to the scope; `true` on a full build. -#}
{% macro in_scope(column) -%}
  {%- if is_incremental() -%}
    {{ column }} in (select scope.screen_id from {{ scope_relation() }} as scope)
  {%- else -%}
    true
  {%- endif -%}
{%- endmacro %}

{#- Custom incremental strategy: replace every row of the in-scope screens. -#}
{% macro get_incremental_replace_screens_sql(arg_dict) %}
  {%- set target = arg_dict["target_relation"] -%}
  {%- set source = arg_dict["temp_relation"] -%}
  {%- set key = arg_dict["unique_key"] -%}
  {%- if key is none or key is not string -%}
    {{ exceptions.raise_compiler_error(
        "replace_screens needs unique_key set to the single screen-id column of " ~ target) }}
  {%- endif -%}
  {%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}
  {%- set parts = tenant_partitioning() -%}
  {%- if parts is not none %}
{{ ensure_tenant_partitions(target, source, parts.column, parts.schema) }}
  {%- endif %}
delete from {{ target }}
where {{ adapter.quote(key) }} in (
    select scope.screen_id from pg_temp.{{ adapter.quote(target.identifier ~ '__scope') }} as scope
);
insert into {{ target }} ({{ columns }})
select {{ columns }} from {{ source }};
{% endmacro %}

{#- Monthly amount from an income/expense frequency (fixed 40 h/week for hourly); NULL for an
    unknown frequency, so a screen whose rows are all unknown has NULL, not 0. -#}
{% macro monthly_amount(amount, frequency) -%}
    case {{ frequency }}
        when 'yearly' then {{ amount }} / 12
        when 'monthly' then {{ amount }}
        when 'weekly' then {{ amount }} * 52 / 12
        when 'hourly' then {{ amount }} * 40 * 52 / 12
        when 'biweekly' then {{ amount }} * 26 / 12
        when 'semimonthly' then {{ amount }} * 24 / 12
    end
{%- endmacro %}

{#- Fresh planner statistics after a table is (re)built. Incremental runs change ~1 % of rows,
    which leaves the statistics valid (autovacuum refreshes them), so they skip the cost. -#}
{% macro analyze_if_rebuilt() %}
  {%- if config.get('materialized') == 'table' or should_full_refresh() -%}
analyze {{ this }}
  {%- else -%}
select 1
  {%- endif -%}
{% endmacro %}
