{#-
  Row-level security for tenant marts, bound to the database role (never to a session setting).

  Tenants read only what carries RLS. There are no default privileges and no schema-wide grant
  for tenant roles: a relation in the tenant schema is readable by a tenant only once this hook
  has run for it, and the hook enables RLS, writes the policies and grants SELECT in one
  transaction — the model's own (dbt runs post-hooks inside it unless `transaction: false`,
  which enforce_tenant_rls() refuses). A full rebuild swaps tables by rename inside that
  transaction, so no tenant ever sees the new table without its policies.

  For every role in pg_roles named wl_<slug>_<white_label_id>_ro a table gets one policy named
  exactly like the role:  CREATE POLICY "<role>" ... FOR SELECT TO "<role>"
  USING (white_label_id = <id literal>). A literal predicate lets the planner use the
  white_label_id index and gives tenants the same plan the owner gets with an explicit WHERE.
  Any other policy on the table (a gone tenant's, a hand-made one TO PUBLIC) is dropped, so after
  each build the policies are exactly one per existing tenant role. RLS is ENABLEd, not FORCEd:
  the dbt owner bypasses it as table owner. Partitions of the table get RLS too and no tenant
  privilege (tenants read through the parent).

  A view reaches tenants only with security_invoker over tables with RLS (every view it reads
  through too): the hook sets security_invoker and fails the model otherwise. A `no-rls` model
  gets no tenant privilege at all (a no-rls view still gets security_invoker).

  The same rules, for tenants added by `pulumi up`, live in components/postgres/access.py
  (tenant_access_sql, safe_view_sql). A materialization of this project's may call
  apply_tenant_rls() itself (inside its transaction) instead of relying on the post-hook.
-#}

{% macro tenant_role_regex() %}^wl_([a-z][a-z_]*)_([0-9]+)_ro${% endmacro %}

{% macro tenant_access_lock_key() %}mfb-tenant-access{% endmacro %}

{#- The relations under view `view_oid` (itself included) that keep it from reaching tenants:
    a view without security_invoker, a table without RLS, anything else (matview, foreign table,
    sequence, catalog). Same rule as components/postgres/access.py safe_view_sql. -#}
{% macro _unsafe_under_view(view_oid) -%}
    with recursive deps(relid) as (
        select ({{ view_oid }})::oid
        union
        select d.refobjid
        from deps
        join pg_catalog.pg_rewrite as rw on rw.ev_class = deps.relid
        join pg_catalog.pg_depend as d
          on d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass and d.objid = rw.oid
         and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
         and d.refobjid <> deps.relid
    )
    select pg_catalog.string_agg(dc.oid::pg_catalog.regclass::text, ', ' order by dc.relname)
    from deps join pg_catalog.pg_class as dc on dc.oid = deps.relid
    where not case
        when dc.relkind = 'v' then coalesce((
            select o.option_value from pg_catalog.pg_options_to_table(dc.reloptions) as o
            where o.option_name = 'security_invoker'), 'false')::boolean
        when dc.relkind in ('r', 'p') then dc.relrowsecurity
        else false
    end
{%- endmacro %}

{#- SELECT and nothing else for every tenant role on `rel` (a regclass variable of the
    enclosing DO block); `grant_select=false`: every tenant privilege revoked. -#}
{% macro _tenant_grants(rel, grant_select=true) -%}
    for rec in
        select r.rolname,
               (select pg_catalog.array_agg(a.privilege_type::text order by a.privilege_type)
                from pg_catalog.pg_class as c, pg_catalog.aclexplode(c.relacl) as a
                where c.oid = {{ rel }} and a.grantee = r.oid) as privs
        from pg_catalog.pg_roles as r
        where r.rolname ~ pattern
        order by r.rolname
    loop
        {%- if grant_select %}
        if rec.privs is distinct from array['SELECT']::text[] then
            if rec.privs is not null then
                execute pg_catalog.format('revoke all on table %s from %I', {{ rel }}, rec.rolname);
            end if;
            execute pg_catalog.format('grant select on table %s to %I', {{ rel }}, rec.rolname);
        end if;
        {%- else %}
        if rec.privs is not null then
            execute pg_catalog.format('revoke all on table %s from %I', {{ rel }}, rec.rolname);
        end if;
        {%- endif %}
    end loop;
{%- endmacro %}

{% macro _this_regclass() -%}
{{ dbt.string_literal(adapter.quote(this.schema) ~ '.' ~ adapter.quote(this.identifier)) }}::pg_catalog.regclass
{%- endmacro %}

{% macro apply_tenant_rls(white_label_column='white_label_id') %}
  {%- set materialized = config.get('materialized') -%}
  {%- if execute and materialized in ('ephemeral', 'materialized_view') -%}
    {{ exceptions.raise_compiler_error(
        "apply_tenant_rls: " ~ this ~ " is materialized as '" ~ materialized
        ~ "'; tenants can read only a table with row level security or a security_invoker view "
        ~ "over such tables") }}
  {%- endif -%}
  {%- if 'no-rls' in model.tags -%}
    {{ log("RLS: " ~ this ~ " is tagged no-rls (not tenant data): no tenant can read it", info=true) }}
do $mfb_rls$
declare
    tbl constant pg_catalog.regclass := {{ _this_regclass() }};
    pattern constant text := '{{ tenant_role_regex() }}';
    rec record;
begin
    if (select c.relkind from pg_catalog.pg_class as c where c.oid = tbl) = 'v'
       and pg_catalog.current_setting('server_version_num')::int >= 150000 then
        execute pg_catalog.format('alter view %s set (security_invoker = true)', tbl);
    end if;
    {{ _tenant_grants('tbl', grant_select=false) }}
end
$mfb_rls$
  {%- elif materialized == 'view' -%}
do $mfb_rls$
declare
    v constant pg_catalog.regclass := {{ _this_regclass() }};
    pattern constant text := '{{ tenant_role_regex() }}';
    bad text;
    rec record;
begin
    perform pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtext('{{ tenant_access_lock_key() }}'));
    if pg_catalog.current_setting('server_version_num')::int < 150000 then
        raise exception 'RLS: view % cannot reach tenants: security_invoker views need '
                        'PostgreSQL 15 or later', v;
    end if;
    execute pg_catalog.format('alter view %s set (security_invoker = true)', v);
    {{ _unsafe_under_view('v') }} into bad;
    if bad is not null then
        raise exception 'RLS: view % would show tenants rows without row level security: it '
                        'reads %', v, bad
              using hint = 'A view reaches tenants only with security_invoker over tables with '
                           'row level security. Read from the tenant marts only, or tag the '
                           'model no-rls (then no tenant can read it).';
    end if;
    {{ _tenant_grants('v') }}
end
$mfb_rls$
  {%- else -%}
-- Idempotent and lock-friendly: on an incremental run nothing below needs a lock beyond the
-- ones the insert took, unless a tenant role came or went. ALTER TABLE / CREATE POLICY take an
-- ACCESS EXCLUSIVE lock, so they run only when something differs; lock_timeout was set at the
-- start of the model's transaction (dbt_session_guards).
{{ ensure_index(white_label_column) }}
do $mfb_rls$
declare
    tbl constant pg_catalog.regclass := {{ _this_regclass() }};
    pattern constant text := '{{ tenant_role_regex() }}';
    col constant text := {{ dbt.string_literal(white_label_column) }};
    rec record;
    part record;
begin
    perform pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtext('{{ tenant_access_lock_key() }}'));
    if not (select c.relrowsecurity from pg_catalog.pg_class as c where c.oid = tbl) then
        execute pg_catalog.format('alter table %s enable row level security', tbl);
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
        execute pg_catalog.format('drop policy %I on %s', rec.polname, tbl);
    end loop;
    -- one policy per tenant role, with the white label id as a literal; an identical one stays
    for rec in
        select r.oid as role_oid, r.rolname,
               ((pg_catalog.regexp_match(r.rolname, pattern))[2])::bigint as white_label_id
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
                  = pg_catalog.format('(%I = %s)', col, rec.white_label_id)
        );
        execute pg_catalog.format('drop policy if exists %I on %s', rec.rolname, tbl);
        execute pg_catalog.format(
            'create policy %I on %s as permissive for select to %I using (%I = %s)',
            rec.rolname, tbl, rec.rolname, col, rec.white_label_id
        );
    end loop;
    -- partitions are read through this table only: RLS on, no tenant privilege
    for part in
        select t.relid::pg_catalog.regclass as rel
        from pg_catalog.pg_partition_tree(tbl) as t
        join pg_catalog.pg_class as c on c.oid = t.relid
        where t.relid <> tbl and c.relkind in ('r', 'p') and not c.relrowsecurity
    loop
        execute pg_catalog.format('alter table %s enable row level security', part.rel);
    end loop;
    for part in
        select t.relid::pg_catalog.regclass as rel
        from pg_catalog.pg_partition_tree(tbl) as t
        where t.relid <> tbl
    loop
        {{ _tenant_grants('part.rel', grant_select=false) }}
    end loop;
    -- and now, in this same transaction, tenants may read it
    {{ _tenant_grants('tbl') }}
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


{#- ---------------------------------------------------------------------------------------
    Locks: a tenant session that reads a mart and idles inside its transaction holds a lock
    dbt's swap (ALTER TABLE ... RENAME, DROP of the old table) must wait for; every reader then
    queues behind dbt. Every dbt session sets lock_timeout before its first DDL
    (dbt_session_guards, a pre-hook on every Postgres model, seed and snapshot), and the swap
    itself first takes its lock explicitly, so a timeout names the sessions holding it.
    search_path is pinned at connection start (profiles.yml: pg_catalog, pg_temp), so nothing
    planted in `public` can bind to dbt's unqualified functions and operators.
--------------------------------------------------------------------------------------- -#}
{% macro dbt_lock_timeout() %}{{ var('lock_timeout', '30s') }}{% endmacro %}

{% macro dbt_session_guards() %}
  {%- if target.type == 'postgres' -%}
set lock_timeout = {{ dbt.string_literal(dbt_lock_timeout()) }}
  {%- else -%}
select 1
  {%- endif -%}
{% endmacro %}

{#- Take ACCESS EXCLUSIVE on a table before DDL on it, waiting at most lock_timeout; on a
    timeout, fail naming the roles and pids holding a lock on it. -#}
{% macro lock_or_name_blockers(relation) -%}
do $mfb_lock$
declare
    rel constant pg_catalog.regclass := pg_catalog.to_regclass({{ dbt.string_literal(relation.render()) }});
    holders text;
begin
    if rel is null or (select c.relkind from pg_catalog.pg_class as c where c.oid = rel)
                      not in ('r', 'p') then
        return;  -- gone, or a view (locking a view would lock the tables under it)
    end if;
    perform pg_catalog.set_config('lock_timeout', {{ dbt.string_literal(dbt_lock_timeout()) }}, true);
    begin
        execute pg_catalog.format('lock table %s in access exclusive mode', rel);
    exception when lock_not_available then
        select pg_catalog.string_agg(distinct pg_catalog.format('%s (pid %s, %s, %s)',
                   coalesce(a.usename::text, 'unknown role'), l.pid, l.mode,
                   coalesce(a.state, 'state not visible')), ', ')
          into holders
        from pg_catalog.pg_locks as l
        left join pg_catalog.pg_stat_activity as a on a.pid = l.pid
        where l.locktype = 'relation' and l.relation = rel and l.granted
          and l.pid <> pg_catalog.pg_backend_pid();
        raise exception 'mfb: could not lock % within lock_timeout % (dbt var lock_timeout): '
                        'blocked by %', rel, pg_catalog.current_setting('lock_timeout'),
                        coalesce(holders, 'a session that has since let go')
              using hint = 'A session holding a lock on it (a tenant idle in a transaction, a '
                           'long query) blocks the table swap; dbt gives up instead of queueing '
                           'every reader behind it. End that session (pg_terminate_backend(pid)) '
                           'or run again later.';
    end;
end
$mfb_lock$;
{%- endmacro %}

{#- dbt's own rename/drop (dbt-adapters global_project macros/relations/rename.sql, drop.sql),
    with the explicit lock first. dispatch() finds these in the root project before dbt's. -#}
{% macro postgres__rename_relation(from_relation, to_relation) -%}
  {% set target_name = adapter.quote_as_configured(to_relation.identifier, 'identifier') %}
  {% call statement('rename_relation') -%}
    {{ lock_or_name_blockers(from_relation) }}
    alter table {{ from_relation.render() }} rename to {{ target_name }}
  {%- endcall %}
{% endmacro %}

{% macro postgres__drop_relation(relation) -%}
  {% call statement('drop_relation', auto_begin=False) -%}
    {{ lock_or_name_blockers(relation) }}
    {{ get_drop_sql(relation) }}
  {%- endcall %}
{% endmacro %}


{#- ---------------------------------------------------------------------------------------
    on-run-start: refuse to run if anything that lands in the tenant-facing schema — a model, a
    seed or a snapshot — would be built without the RLS post-hook inside its transaction, or as
    something that cannot carry RLS. Opt out only with the tag `no-rls` (not tenant data: then
    no tenant can read it); a no-rls view still needs the hook (it sets security_invoker).
--------------------------------------------------------------------------------------- -#}
{% macro enforce_tenant_rls() %}
  {%- if execute and target.type == 'postgres' -%}
    {%- set offenders = [] -%}
    {%- for node in graph.nodes.values()
          if node.resource_type in ('model', 'seed', 'snapshot') and node.config.enabled
             and node.config.materialized != 'ephemeral' and node.schema == target.schema -%}
      {%- set ns = namespace(has_rls=false, outside=false) -%}
      {%- for hook in node.config.get('post-hook', []) -%}
        {%- set sql = hook.sql if hook is mapping else hook | string -%}
        {%- if 'apply_tenant_rls' in sql -%}
          {%- set ns.has_rls = true -%}
          {%- if hook is mapping and hook.get('transaction', true) is false -%}
            {%- set ns.outside = true -%}
          {%- endif -%}
        {%- endif -%}
      {%- endfor -%}
      {%- set what = node.resource_type ~ " " ~ node.name ~ " (" ~ node.original_file_path
                     ~ ", " ~ node.config.materialized ~ ")" -%}
      {%- if node.config.materialized == 'materialized_view' -%}
        {%- do offenders.append(what ~ ": a materialized view cannot carry row level security") -%}
      {%- elif ns.outside -%}
        {%- do offenders.append(what ~ ": its apply_tenant_rls() hook has transaction: false, "
                                ~ "which leaves the rebuilt table readable before its policies") -%}
      {%- elif 'no-rls' in node.tags and node.config.materialized == 'view' and not ns.has_rls -%}
        {%- do offenders.append(what ~ ": a no-rls view without the hook has no security_invoker") -%}
      {%- elif 'no-rls' in node.tags -%}
        {{ log("RLS check: " ~ node.name ~ " opted out (tag no-rls): no tenant can read it", info=true) }}
      {%- elif not ns.has_rls -%}
        {%- do offenders.append(what ~ ": no apply_tenant_rls() post-hook") -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if offenders -%}
      {{ exceptions.raise_compiler_error(
          "Row-level security check failed: these build into the tenant-facing schema '"
          ~ target.schema ~ "' without row level security inside their own transaction:\n  - "
          ~ offenders | join("\n  - ")
          ~ "\nFix: put models under models/postgres/marts/ (the folder applies the hook), add "
          ~ "post_hook=\"{{ apply_tenant_rls() }}\" (seeds, snapshots: +post-hook in "
          ~ "dbt_project.yml), keep the hook inside the transaction, move them to the internal "
          ~ "schema, or tag them 'no-rls' if they hold no tenant data.") }}
    {%- endif -%}
  {%- endif -%}
  select 1
{% endmacro %}
