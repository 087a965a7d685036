{#-
  Row-level security for tenant marts, bound to the database role (never to a session setting).

  For every role in pg_roles named wl_<slug>_<white_label_id>_ro the table gets one policy named
  exactly like the role:  CREATE POLICY "<role>" ... FOR SELECT TO "<role>"
  USING (white_label_id = <id literal>). A literal predicate lets the planner use the
  white_label_id index and gives tenants the same plan the owner gets with an explicit WHERE
  (no current_user regex, no role->tenant subquery, no GUC function evaluated per query).
  Any other policy on the table (a gone tenant's, a hand-made one TO PUBLIC) is dropped, so
  after each build the policies are exactly one per existing tenant role.
  RLS is ENABLEd, not FORCEd: the dbt owner bypasses it as table owner. Roles that match nothing
  have no policy and see zero rows. Policies for tenant-pattern names whose role is gone are
  dropped by the hook. SELECT grants come from default privileges managed by Pulumi (AnalyticsDatabase),
  which also adds the same-named policy to every table with relrowsecurity when it creates a
  tenant role, so a new tenant sees its rows before the next dbt run.
-#}

{% macro tenant_role_regex() %}^wl_([a-z][a-z_]*)_([0-9]+)_ro${% endmacro %}

{% macro apply_tenant_rls(white_label_column='white_label_id') %}
  {%- if 'no-rls' in model.tags -%}
    {{ log("RLS: " ~ this ~ " is tagged no-rls (not tenant data); no policy applied", info=true) }}
    select 1
  {%- else -%}
    {%- if execute and config.get('materialized') not in ('table', 'incremental') -%}
      {{ exceptions.raise_compiler_error(
          "apply_tenant_rls: " ~ this ~ " is materialized as '" ~ config.get('materialized')
          ~ "'; RLS needs a table (a view runs with its owner's rights and would bypass it)") }}
    {%- endif -%}
    {%- set relation = this.schema ~ '.' ~ this.identifier -%}
-- Idempotent and lock-friendly: on an incremental run nothing below needs a lock beyond the
-- ones the insert took, unless a tenant role came or went. ALTER TABLE / CREATE POLICY take an
-- ACCESS EXCLUSIVE lock that would queue every Metabase reader behind a long-running query, so
-- they run only when something differs, and give up after lock_timeout rather than stall readers.
set local lock_timeout = '60s';
{{ ensure_index(white_label_column) }}
do $mfb_rls$
declare
    tbl constant regclass := {{ dbt.string_literal(adapter.quote(this.schema) ~ '.' ~ adapter.quote(this.identifier)) }}::regclass;
    pattern constant text := '{{ tenant_role_regex() }}';
    col constant text := {{ dbt.string_literal(white_label_column) }};
    rec record;
begin
    if not (select c.relrowsecurity from pg_catalog.pg_class as c where c.oid = tbl) then
        execute format('alter table %s enable row level security', tbl);
    end if;
    -- the policies of a tenant mart are exactly one per existing tenant role: drop the rest
    -- (policies of tenant roles that are gone, and any stray policy, e.g. one TO PUBLIC)
    for rec in
        select pol.polname
        from pg_catalog.pg_policy as pol
        where pol.polrelid = tbl
          and not (
              pol.polname ~ pattern
              and exists (select 1 from pg_catalog.pg_roles as r where r.rolname = pol.polname)
          )
    loop
        execute format('drop policy %I on %s', rec.polname, tbl);
    end loop;
    -- one policy per tenant role, with the white label id as a literal; an identical one stays
    for rec in
        select r.oid as role_oid, r.rolname,
               ((regexp_match(r.rolname, pattern))[2])::bigint as white_label_id
        from pg_catalog.pg_roles as r
        where r.rolname ~ pattern
        order by r.rolname
    loop
        continue when exists (
            select 1
            from pg_catalog.pg_policy as pol
            where pol.polrelid = tbl
              and pol.polname = rec.rolname
              and pol.polcmd = 'r'
              and pol.polpermissive
              and pol.polroles = array[rec.role_oid]::oid[]
              and pg_catalog.pg_get_expr(pol.polqual, pol.polrelid)
                  = format('(%I = %s)', col, rec.white_label_id)
        );
        execute format('drop policy if exists %I on %s', rec.rolname, tbl);
        execute format(
            'create policy %I on %s as permissive for select to %I using (%I = %s)',
            rec.rolname, tbl, rec.rolname, col, rec.white_label_id
        );
    end loop;
end
$mfb_rls$
  {%- endif -%}
{% endmacro %}


{#- Create index idx_<table>_<column> on this table unless it already has it. A full rebuild
    swaps tables by rename, so the old table (still holding the name until it is dropped) may
    own an index of that name: it is renamed out of the way first. -#}
{% macro ensure_index(column, unique=false) %}
  {%- set index_name = 'idx_' ~ this.identifier ~ '_' ~ column -%}
do $mfb_idx$
declare
    tbl constant regclass := {{ dbt.string_literal(adapter.quote(this.schema) ~ '.' ~ adapter.quote(this.identifier)) }}::regclass;
    other regclass;
begin
    if exists (
        select 1 from pg_catalog.pg_index as i
        join pg_catalog.pg_class as c on c.oid = i.indexrelid
        where i.indrelid = tbl and c.relname = {{ dbt.string_literal(index_name) }}
    ) then
        return;
    end if;
    select i.indexrelid::regclass into other
    from pg_catalog.pg_index as i
    join pg_catalog.pg_class as c on c.oid = i.indexrelid
    join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
    where c.relname = {{ dbt.string_literal(index_name) }}
      and n.nspname = {{ dbt.string_literal(this.schema) }};
    if other is not null then
        execute format('alter index %s rename to %I', other,
                       left({{ dbt.string_literal(index_name) }}, 50) || '_old_' || other::oid);
    end if;
    execute format('create {{ "unique " if unique else "" }}index %I on %s (%I)',
                   {{ dbt.string_literal(index_name) }}, tbl, {{ dbt.string_literal(column) }});
end
$mfb_idx$;
{% endmacro %}


{#- on-run-start: refuse to run if a model that lands in the tenant-facing schema would be built
    without the RLS post-hook. Opt out only with the tag `no-rls` (not tenant data). -#}
{% macro enforce_tenant_rls() %}
  {%- if execute and target.type == 'postgres' -%}
    {%- set offenders = [] -%}
    {%- for node in graph.nodes.values()
          if node.resource_type == 'model' and node.config.enabled
             and node.config.materialized != 'ephemeral' and node.schema == target.schema -%}
      {%- set hooks = node.config.get('post-hook', []) -%}
      {%- set ns = namespace(has_rls=false) -%}
      {%- for hook in hooks -%}
        {%- if 'apply_tenant_rls' in (hook.sql if hook is mapping else hook | string) -%}
          {%- set ns.has_rls = true -%}
        {%- endif -%}
      {%- endfor -%}
      {%- if 'no-rls' in node.tags -%}
        {{ log("RLS check: " ~ node.name ~ " opted out (tag no-rls)", info=true) }}
      {%- elif not ns.has_rls or node.config.materialized not in ('table', 'incremental') -%}
        {%- do offenders.append(node.name ~ " (" ~ node.original_file_path ~ ", "
                                ~ node.config.materialized ~ ")") -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if offenders -%}
      {{ exceptions.raise_compiler_error(
          "Row-level security check failed: these models build into the tenant-facing schema '"
          ~ target.schema ~ "' without the apply_tenant_rls() post-hook:\n  - "
          ~ offenders | join("\n  - ")
          ~ "\nFix: put them under models/postgres/marts/ (the folder applies the hook), add "
          ~ "post_hook=\"{{ apply_tenant_rls() }}\", move them to the internal schema, or tag "
          ~ "them 'no-rls' if they hold no tenant data.") }}
    {%- endif -%}
  {%- endif -%}
  select 1
{% endmacro %}
