{#-
  Tenant marts LIST-partitioned by white label: a tenant's plans touch only its own rows.

  Why: on one table holding every white label, EXPLAIN ANALYZE as a tenant reports how many
  other tenants' rows a scan read ("Rows Removed by Filter", heap blocks, buffers), and the
  planner's estimates mix every tenant's statistics (a value present only in another tenant's
  data moves the tenant's row estimates). With one partition per white_label_id, the policy's
  literal `USING (white_label_id = <id>)` prunes every other partition at plan time: a tenant's
  plan reads, counts and estimates from its own partition only.

  How (config `tenant_partitions`, set for the whole marts folder in dbt_project.yml):
    +tenant_partitions: {column: white_label_id, schema: internal}
  The models keep `materialized='incremental'` (or 'table'): is_incremental(), the
  `replace_screens` strategy, the on-run-start RLS check and the RLS post-hook see an ordinary
  table/incremental model. Only the creation of the table changes: dbt's table and incremental
  materializations create tables through get_create_table_as_sql(), overridden here for
  postgres. For a partitioned model (never for dbt's temporary tables) it
    1. stages the model's rows in a temporary table (dropped at commit),
    2. creates the parent `PARTITION BY LIST (<column>)` with the staged columns and
       statistics target 0 on every parent column,
    3. creates one partition per distinct value (NULL included) in `schema`,
    4. inserts the rows through the parent.
  The `replace_screens` strategy creates the partitions of new values (a white label seen for
  the first time) before its insert, so an unknown white_label_id never breaks a run. There is
  no DEFAULT partition: with LIST + DEFAULT, a policy literal whose value has no list partition
  would scan the DEFAULT partition, i.e. whatever rows of other white labels landed there.

  The RLS guarantees stay on the parent: the RLS post-hook enables row level security and puts
  the per-tenant policies on the parent (what every query goes through). Partitions are never a
  way in on their own:
    - they live in the internal schema, where tenant roles have no USAGE (a tenant's SELECT on
      a partition is refused with "permission denied for schema");
    - no privilege on them is ever granted (tenant grants are on the parent only), and
      finalize_tenant_partitions() revokes any that appears;
    - each has row level security enabled with no policy (deny all), in case a role is ever
      given USAGE and SELECT there by hand. Policies of a partition are not applied to queries
      through the parent (PostgreSQL applies the queried table's policies), so this costs the
      tenants' own queries nothing.
  Statistics: ANALYZE of the parent recurses into the partitions (per-tenant statistics, which
  the planner uses for every scan). Statistics target 0 on the parent's columns keeps ANALYZE —
  ours, or a database-wide one by a DBA — from also collecting "inherited" statistics over all
  white labels on the parent: the planner would use those for GROUP BY and join estimates of
  every tenant's query (a tenant's GROUP BY estimate showed the number of distinct values across
  all white labels).
-#}

{#- The model's partitioning as {column, schema}, or none (not partitioned: no config, or a
    `no-rls` model, which holds no tenant data). -#}
{% macro tenant_partitioning() %}
  {%- set cfg = config.get('tenant_partitions', none) -%}
  {#- only tables are partitioned: a view (security_invoker, over RLS marts) has no rows -#}
  {%- if not cfg or 'no-rls' in (model.tags or [])
        or config.get('materialized') not in ('table', 'incremental') -%}
    {{ return(none) }}
  {%- endif -%}
  {%- if cfg is not mapping or not cfg.get('column') -%}
    {{ exceptions.raise_compiler_error(
        "tenant_partitions of " ~ model.name ~ " must be a mapping like "
        ~ "{column: white_label_id, schema: internal}; got " ~ cfg) }}
  {%- endif -%}
  {%- set schema = generate_schema_name(cfg.get('schema', 'internal'), model) | trim -%}
  {{ return({'column': cfg['column'], 'schema': schema}) }}
{% endmacro %}


{% macro postgres__get_create_table_as_sql(temporary, relation, sql) -%}
  {%- set parts = none if temporary else tenant_partitioning() -%}
  {%- if parts is none -%}
    {{ return(create_table_as(temporary, relation, sql)) }}
  {%- endif -%}
  {%- set contract = config.get('contract') -%}
  {%- if contract and contract.enforced -%}
    {{ exceptions.raise_compiler_error(
        model.name ~ ": tenant_partitions does not support an enforced contract") }}
  {%- endif -%}
  {%- set rows = adapter.quote(relation.identifier ~ '__rows') -%}
  {%- set column = adapter.quote(parts.column) -%}
create temporary table {{ rows }} on commit drop as (
{{ sql }}
);
create table {{ relation }} (like pg_temp.{{ rows }}) partition by list ({{ column }});
{{ tenant_partition_stats_off(relation) }}
{{ ensure_tenant_partitions(relation, 'pg_temp.' ~ rows, parts.column, parts.schema) }}
insert into {{ relation }} select * from pg_temp.{{ rows }};
drop table pg_temp.{{ rows }};
{%- endmacro %}


{#- Statistics target 0 on every column of the parent only (ONLY: the partitions keep theirs). -#}
{% macro tenant_partition_stats_off(relation) -%}
do $mfb_stats$
declare
    parent constant regclass := {{ dbt.string_literal(adapter.quote(relation.schema) ~ '.' ~ adapter.quote(relation.identifier)) }}::regclass;
    col record;
begin
    for col in
        select a.attname from pg_catalog.pg_attribute as a
        where a.attrelid = parent and a.attnum > 0 and not a.attisdropped
          and a.attstattarget is distinct from 0
    loop
        execute format('alter table only %s alter column %I set statistics 0', parent, col.attname);
    end loop;
end
$mfb_stats$;
{%- endmacro %}


{#- One partition of `relation` per distinct `column` value in `source` that has none yet,
    named <parent>_wl<value> in `schema`. -#}
{% macro ensure_tenant_partitions(relation, source, column, schema) -%}
do $mfb_parts$
declare
    parent constant regclass := {{ dbt.string_literal(adapter.quote(relation.schema) ~ '.' ~ adapter.quote(relation.identifier)) }}::regclass;
    base constant text := {{ dbt.string_literal(relation.identifier) }};
    part_schema constant text := {{ dbt.string_literal(schema) }};
    val text;
begin
    if to_regnamespace(part_schema) is null then
        raise exception 'schema % for the partitions of % does not exist', part_schema, parent
            using hint = 'the internal schema is created by the first dbt build of the '
                         'staging models, or by the access plan (AnalyticsDatabase)';
    end if;
    for val in
        select distinct src.{{ adapter.quote(column) }}::text from {{ source }} as src
    loop
        continue when exists (
            select 1
            from pg_catalog.pg_inherits as i
            join pg_catalog.pg_class as c on c.oid = i.inhrelid
            where i.inhparent = parent
              and pg_catalog.pg_get_expr(c.relpartbound, c.oid)
                  = format('FOR VALUES IN (%s)', quote_nullable(val))
        );
        execute format(
            'create table %I.%I partition of %s for values in (%s)',
            part_schema, base || '_wl' || coalesce(val, 'null'), parent, quote_nullable(val)
        );
    end loop;
end
$mfb_parts$;
{%- endmacro %}


{#- Post-hook (marts folder, before the RLS hook): partitions named after the final table, no
    privileges on them, row level security on each, no inherited statistics on the parent.
    Idempotent and lock-friendly: an incremental run with nothing new changes nothing.
    A full refresh builds <table>__dbt_tmp and its partitions <table>__dbt_tmp_wl<id>, then
    swaps the tables; the old partitions (owned by <table>__dbt_backup, dropped after commit)
    are renamed out of the way first. -#}
{% macro finalize_tenant_partitions() %}
  {%- set parts = tenant_partitioning() -%}
  {%- if parts is none -%}
select 1
  {%- else -%}
{{ tenant_partition_stats_off(this) }}
do $mfb_final$
declare
    parent constant regclass := {{ dbt.string_literal(adapter.quote(this.schema) ~ '.' ~ adapter.quote(this.identifier)) }}::regclass;
    base constant text := {{ dbt.string_literal(this.identifier) }};
    part_schema constant text := {{ dbt.string_literal(parts.schema) }};
    rec record;
    other regclass;
    want text;
    who oid;
begin
    for rec in
        select c.oid::regclass as part, c.relname, c.relrowsecurity, c.relacl, c.relowner,
               pg_catalog.pg_get_expr(c.relpartbound, c.oid) as bound
        from pg_catalog.pg_inherits as i
        join pg_catalog.pg_class as c on c.oid = i.inhrelid
        where i.inhparent = parent
        order by c.relname
    loop
        want := base || '_wl' || coalesce(
            substring(rec.bound from $re$^FOR VALUES IN \('(.*)'\)$$re$), 'null');
        if rec.relname <> want then
            select c.oid::regclass into other
            from pg_catalog.pg_class as c
            where c.relname = want and c.relnamespace = to_regnamespace(part_schema);
            if other is not null then
                execute format('alter table %s rename to %I', other,
                               left(want, 40) || '_old_' || other::oid);
            end if;
            execute format('alter table %s rename to %I', rec.part, want);
        end if;
        if not rec.relrowsecurity then
            execute format('alter table %s enable row level security', rec.part);
        end if;
        -- no privilege on a partition for anyone but its owner (dbt): a tenant reads
        -- through the parent only
        for who in
            select distinct acl.grantee
            from aclexplode(rec.relacl) as acl
            where acl.grantee <> rec.relowner
        loop
            execute format('revoke all on %s from %s', rec.part,
                           case when who = 0 then 'public'
                                else quote_ident(pg_catalog.pg_get_userbyid(who)) end);
        end loop;
    end loop;
end
$mfb_final$
  {%- endif -%}
{% endmacro %}
