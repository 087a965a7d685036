"""The tenant access plan for the analytics Postgres: one model, two renderings.

`AccessPlan` says who exists and what they may touch in the database dbt writes to:

- the schemas dbt builds into (`analytics` for marts, `analytics_internal` for staging and
  intermediate views), owned by the owner role (the dbt / global credential);
- the owner's rights: read the Django `public` tables, create in its schemas, temporary tables;
- one login role per tenant, `wl_<slug>_<white_label_id>_ro`: CONNECT on the database and USAGE
  on `analytics`. No blanket SELECT and no default privileges (leftover ones are revoked): a
  tenant reads a relation only once it carries row level security, and it gets SELECT on it in
  the same transaction that enables RLS and creates its policy (dbt's post-hook; for a tenant
  added by `pulumi up`, `tenant_access_sql` below, run by TenantPolicies and printed by
  `mfb-infra sql`). A view reaches tenants only with security_invoker over such tables. Nothing
  else: no access to `public`, no write, no create, no temporary tables;
- for every tenant role, a policy named exactly like the role on every table of `analytics` that
  has row level security enabled (`AS PERMISSIVE FOR SELECT TO "<role>" USING (white_label_id =
  <id>)`);
- limits on every tenant role (`TenantLimits`): connection limit, statement_timeout,
  idle_in_transaction_session_timeout, temp_file_limit (superuser only), reset on every apply;
- database hardening: no CREATE on `public` and no TEMPORARY for PUBLIC.

`render_sql(plan)` renders the idempotent SQL this plan stands for (for DBAs and the local
database); `components/postgres/database.py` renders the same plan into pulumi-postgresql
resources. This module imports nothing from Pulumi.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

TENANT_ROLE_PATTERN = r"^wl_([a-z][a-z_]*)_([0-9]+)_ro$"
TENANT_ROLE_RE = re.compile(TENANT_ROLE_PATTERN)
OWNER = "<owner>"  # symbolic owner role: the dbt / global credential (a secret in Pulumi)

CredentialMode = Literal["sql", "heroku", "shared"]
ObjectType = Literal["database", "schema", "table"]
TENANT_TABLE_PRIVILEGES = ("SELECT",)
PUBLIC = "PUBLIC"  # the PUBLIC pseudo-role (every role), never quoted
ACCESS_LOCK_KEY = "mfb-tenant-access"  # advisory lock serializing concurrent tenant-access SQL
# Large-object creation functions: EXECUTE is granted to PUBLIC and only their owner (the
# bootstrap superuser) can revoke it; `lo_compat_privileges` (off) governs reading and writing
# other roles' large objects, not creating new ones.
LARGE_OBJECT_CREATORS = ("lo_creat(integer)", "lo_create(oid)", "lo_from_bytea(oid, bytea)")


# --------------------------------------------------------------------------------------------
# Identifiers and literals
# --------------------------------------------------------------------------------------------
def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier."""
    if "\x00" in name:
        raise ValueError(f"identifier {name!r} contains a NUL byte")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A single-quoted SQL string literal (standard_conforming_strings on)."""
    if "\x00" in value:
        raise ValueError("string literal contains a NUL byte")
    return "'" + value.replace("'", "''") + "'"


def password_variable(role: str) -> str:
    """The psql variable that carries a tenant's password in rendered SQL."""
    return f"{role}_password"


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class TenantRole:
    slug: str
    white_label_id: int
    role: str

    def __post_init__(self) -> None:
        m = TENANT_ROLE_RE.fullmatch(self.role)
        if not m or int(m.group(2)) != self.white_label_id:
            raise ValueError(
                f"tenant '{self.slug}': role '{self.role}' does not follow "
                f"wl_<slug>_<white_label_id>_ro for white_label_id {self.white_label_id}"
            )


@dataclass(frozen=True, order=True)
class Grant:
    """Privileges of `role` on a database, a schema, or all tables of a schema."""

    role: str  # a role name or OWNER
    object_type: ObjectType
    schema: str | None  # None for the database
    privileges: tuple[str, ...]


@dataclass(frozen=True, order=True)
class DefaultPrivilege:
    """Privileges `role` gets on tables `owner` creates later in `schema`."""

    role: str
    owner: str
    schema: str
    object_type: Literal["table"]
    privileges: tuple[str, ...]


@dataclass(frozen=True)
class TenantLimits:
    """Limits on every tenant role (stack config `databaseTenant*`)."""

    connection_limit: int = 10
    statement_timeout_ms: int = 120_000
    idle_in_transaction_timeout_ms: int = 60_000
    temp_file_limit_mb: int = 256

    def settings(self) -> dict[str, str]:
        """Role-level settings a role's owner/CREATEROLE may set (PGC_USERSET)."""
        return {
            "statement_timeout": str(int(self.statement_timeout_ms)),
            "idle_in_transaction_session_timeout": str(int(self.idle_in_transaction_timeout_ms)),
        }

    def superuser_settings(self) -> dict[str, str]:
        """Settings only a superuser may set on a role (PGC_SUSET), in their base unit (kB)."""
        return {"temp_file_limit": str(int(self.temp_file_limit_mb) * 1024)}

    def as_dict(self) -> dict[str, int]:
        return {
            "connection_limit": int(self.connection_limit),
            "statement_timeout_ms": int(self.statement_timeout_ms),
            "idle_in_transaction_timeout_ms": int(self.idle_in_transaction_timeout_ms),
            "temp_file_limit_mb": int(self.temp_file_limit_mb),
        }


@dataclass(frozen=True)
class AccessPlan:
    stack: str
    database: str  # the configured database name (Pulumi); rendered SQL uses current_database()
    schema: str
    mode: CredentialMode
    tenants: tuple[TenantRole, ...]
    internal_schema: str | None = None
    source_schema: str = "public"
    white_label_column: str = "white_label_id"
    limits: TenantLimits = field(default_factory=TenantLimits)

    def __post_init__(self) -> None:
        ids: dict[int, str] = {}
        for t in self.tenants:
            if t.white_label_id in ids:
                raise ValueError(
                    f"tenants '{ids[t.white_label_id]}' and '{t.slug}' share white_label_id "
                    f"{t.white_label_id}; each tenant needs its own id"
                )
            ids[t.white_label_id] = t.slug

    # ---- who exists ------------------------------------------------------------------------
    @property
    def tenant_roles(self) -> tuple[TenantRole, ...]:
        """Tenants that get their own role (none in shared mode)."""
        return () if self.mode == "shared" else self.tenants

    @property
    def owner_schemas(self) -> tuple[str, ...]:
        return (self.schema,) + ((self.internal_schema,) if self.internal_schema else ())

    # ---- what they may touch ---------------------------------------------------------------
    def owner_grants(self) -> list[Grant]:
        """The owner's rights: read the source tables, create in its schemas. Only ever granted
        (never revoked): on Heroku the owner also owns the Django tables."""
        out = [
            Grant(OWNER, "schema", self.source_schema, ("USAGE",)),
            Grant(OWNER, "table", self.source_schema, ("SELECT",)),
        ]
        out += [Grant(OWNER, "schema", s, ("CREATE", "USAGE")) for s in self.owner_schemas]
        return out

    def tenant_grants(self, t: TenantRole) -> list[Grant]:
        """Exactly CONNECT and USAGE on the tenant schema. SELECT comes per relation, with its
        row level security (`tenant_access_sql`, dbt's post-hook), never for a whole schema."""
        return [
            Grant(t.role, "database", None, ("CONNECT",)),
            Grant(t.role, "schema", self.schema, ("USAGE",)),
        ]

    def tenant_default_privileges(self, t: TenantRole) -> list[DefaultPrivilege]:
        """None granted: this revokes whatever default privileges the tenant still has on the
        owner's future tables (an older plan granted SELECT), so `up` fixes such a database."""
        return [DefaultPrivilege(t.role, OWNER, self.schema, "table", ())]

    def grants(self) -> list[Grant]:
        out = self.owner_grants()
        for t in self.tenant_roles:
            out += self.tenant_grants(t)
        return out

    def default_privileges(self) -> list[DefaultPrivilege]:
        return [d for t in self.tenant_roles for d in self.tenant_default_privileges(t)]


def plan_for(cfg: Any, stack: str | None = None) -> AccessPlan:
    """The plan for a `components.config.StackConfig`."""
    db = cfg.database
    return AccessPlan(
        stack=stack or cfg.environment,
        database=db.name,
        schema=db.schema_name,
        internal_schema=f"{db.schema_name}_internal",
        mode=db.tenant_credential_mode,
        tenants=tuple(
            TenantRole(t.slug, t.white_label_id, t.role_name)
            for t in sorted(cfg.tenants, key=lambda t: t.white_label_id)
        ),
        limits=TenantLimits(
            connection_limit=db.tenant_connection_limit,
            statement_timeout_ms=db.tenant_statement_timeout_ms,
            idle_in_transaction_timeout_ms=db.tenant_idle_in_transaction_timeout_ms,
            temp_file_limit_mb=db.tenant_temp_file_limit_mb,
        ),
    )


# --------------------------------------------------------------------------------------------
# Credentials: fail closed
# --------------------------------------------------------------------------------------------
class MissingTenantCredential(KeyError):
    """A tenant has no credential of its own. Never fall back to a broader one."""

    def __init__(self, slug: str, known: Iterable[str] = ()):
        self.slug = slug
        known_list = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"tenant '{slug}' has no database credential of its own (credentials exist for: "
            f"{known_list}); refusing to fall back to the global/owner credential, which bypasses "
            "row level security. Add the tenant to the stack's `tenants` (its role "
            "wl_<slug>_<id>_ro is created by AnalyticsDatabase)."
        )

    def __str__(self) -> str:
        return str(self.args[0])


C = TypeVar("C")


@dataclass(frozen=True)
class TenantCredentials(Mapping[str, C], Generic[C]):
    """Tenant slug -> credential. A missing tenant raises `MissingTenantCredential`; there is no
    `.get(default)` escape hatch that could hand out the owner credential."""

    by_slug: Mapping[str, C] = field(default_factory=dict)
    shared: bool = False  # every entry is the owner credential (staging, Essential tier)

    def __getitem__(self, slug: str) -> C:
        try:
            return self.by_slug[slug]
        except KeyError:
            raise MissingTenantCredential(slug, self.by_slug) from None

    def get(self, slug: str, default: Any = None) -> C:  # type: ignore[override]
        if default is not None:
            raise TypeError(
                "TenantCredentials.get() takes no default: a tenant credential "
                "never falls back to another credential"
            )
        return self[slug]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_slug)

    def __len__(self) -> int:
        return len(self.by_slug)


def require_credentials(slugs: Iterable[str], creds: Mapping[str, C]) -> dict[str, C]:
    """Every slug's credential, or one error naming every tenant that has none."""
    slugs = list(slugs)
    missing = [s for s in slugs if creds.get(s) is None]
    if missing:
        if len(missing) == 1:
            raise MissingTenantCredential(missing[0], [s for s in slugs if s not in missing])
        raise MissingTenantCredential(", ".join(missing), [s for s in slugs if s not in missing])
    return {s: creds[s] for s in slugs}


# --------------------------------------------------------------------------------------------
# SQL rendering
# --------------------------------------------------------------------------------------------
def _role_sql(role: str, owner: str | None) -> str:
    if role == OWNER:
        return quote_ident(owner) if owner else "CURRENT_USER"
    if role == PUBLIC:
        return PUBLIC
    return quote_ident(role)


def grant_sql(g: Grant, owner: str | None = None) -> str:
    """GRANT statement(s) for one grant. Database grants go through current_database() so the
    same text works on any database."""
    privs = ", ".join(g.privileges)
    who = _role_sql(g.role, owner)
    if g.object_type == "database":
        return (
            "DO $mfb$ BEGIN EXECUTE format('GRANT " + privs + " ON DATABASE %I TO %s', "
            "current_database(), " + quote_literal(who) + "); END $mfb$;"
        )
    assert g.schema is not None
    if g.object_type == "schema":
        return f"GRANT {privs} ON SCHEMA {quote_ident(g.schema)} TO {who};"
    return f"GRANT {privs} ON ALL TABLES IN SCHEMA {quote_ident(g.schema)} TO {who};"


def exact_grant_sql(g: Grant, owner: str | None = None) -> str:
    """REVOKE everything else, then GRANT: the tenant ends up with exactly `g.privileges` (the
    semantics of pulumi-postgresql's Grant). Never used for the owner."""
    if g.role == OWNER:
        raise ValueError("exact grants would revoke the owner's own privileges; use grant_sql")
    who = _role_sql(g.role, owner)
    if g.object_type == "database":
        revoke = (
            "DO $mfb$ BEGIN EXECUTE format('REVOKE ALL ON DATABASE %I FROM %s', "
            "current_database(), " + quote_literal(who) + "); END $mfb$;"
        )
    elif g.object_type == "schema":
        revoke = f"REVOKE ALL ON SCHEMA {quote_ident(g.schema or '')} FROM {who};"
    else:
        revoke = f"REVOKE ALL ON ALL TABLES IN SCHEMA {quote_ident(g.schema or '')} FROM {who};"
    return revoke + "\n" + grant_sql(g, owner)


def default_privilege_sql(d: DefaultPrivilege, owner: str | None = None) -> str:
    """Exactly `d.privileges` as default privileges (none: revoke them all)."""
    who = _role_sql(d.role, owner)
    for_role = _role_sql(d.owner, owner)
    sch = quote_ident(d.schema)
    out = (
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {for_role} IN SCHEMA {sch} REVOKE ALL ON TABLES "
        f"FROM {who};"
    )
    if d.privileges:
        out += (
            f"\nALTER DEFAULT PRIVILEGES FOR ROLE {for_role} IN SCHEMA {sch} GRANT "
            f"{', '.join(d.privileges)} ON TABLES TO {who};"
        )
    return out


def safe_view_sql(view_oid: str) -> str:
    """A boolean SQL expression: the view `view_oid` (an oid expression) may reach tenants —
    it and every view it reads through run with security_invoker, and every table underneath
    has row level security. Anything else underneath (a table without RLS, a materialized view,
    a foreign table, a sequence, a catalog) makes it false. dbt's post-hook
    (macros/postgres/rls.sql) and the isolation proof use the same rule."""
    return f"""NOT EXISTS (
        WITH RECURSIVE deps(relid) AS (
            SELECT ({view_oid})::oid
            UNION
            SELECT d.refobjid
            FROM deps
            JOIN pg_catalog.pg_rewrite AS rw ON rw.ev_class = deps.relid
            JOIN pg_catalog.pg_depend AS d
              ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = rw.oid
             AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
             AND d.refobjid <> deps.relid
        )
        SELECT 1
        FROM deps JOIN pg_catalog.pg_class AS dc ON dc.oid = deps.relid
        WHERE NOT CASE
            WHEN dc.relkind = 'v' THEN coalesce((
                SELECT o.option_value FROM pg_catalog.pg_options_to_table(dc.reloptions) AS o
                WHERE o.option_name = 'security_invoker'), 'false')::boolean
            WHEN dc.relkind IN ('r', 'p') THEN dc.relrowsecurity
            ELSE false
        END
    )"""


def tenant_access_sql(
    role: str, white_label_id: int, schema: str, column: str = "white_label_id"
) -> str:
    """A tenant's access to what already exists in `schema`, in one statement (one transaction):

    - on every table with row level security: the policy named `role` (re-created only when it
      differs), and SELECT — and nothing else — for the tenant, unless it is a partition (read
      through its parent only);
    - on every view that runs with security_invoker over such tables (`safe_view_sql`): SELECT;
    - on every other relation (no RLS, a definer view, a materialized view, a sequence, ...):
      every privilege of the tenant revoked.

    The same text is executed by the TenantPolicies dynamic resource and printed by
    `mfb-infra sql`; dbt's post-hook does the same for the relation it builds."""
    if not TENANT_ROLE_RE.fullmatch(role):
        raise ValueError(f"'{role}' is not a tenant role (wl_<slug>_<id>_ro)")
    wl = int(white_label_id)
    r = quote_literal(role)
    col = quote_literal(column)
    return f"""DO $mfb$
DECLARE
    rel record;
    tenant_oid oid;
    readable boolean;
BEGIN
    -- one tenant-access change at a time (TenantPolicies runs tenants in parallel; concurrent
    -- GRANTs on one relation fail with "tuple concurrently updated")
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext({quote_literal(ACCESS_LOCK_KEY)}));
    SELECT oid INTO tenant_oid FROM pg_catalog.pg_roles WHERE rolname = {r};
    FOR rel IN
        SELECT c.oid, c.oid::pg_catalog.regclass AS tbl, c.relkind, c.relrowsecurity,
               c.relispartition,
               (SELECT pg_catalog.array_agg(a.privilege_type::text ORDER BY a.privilege_type)
                FROM pg_catalog.aclexplode(c.relacl) AS a
                WHERE a.grantee = tenant_oid) AS privs
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = {quote_literal(schema)} AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        ORDER BY c.relname
    LOOP
        IF rel.relkind IN ('r', 'p') AND rel.relrowsecurity AND NOT EXISTS (
            SELECT 1 FROM pg_catalog.pg_policy AS pol
            WHERE pol.polrelid = rel.oid AND pol.polname = {r} AND pol.polcmd = 'r'
              AND pol.polpermissive AND pol.polroles = ARRAY[tenant_oid]::oid[]
              AND pg_catalog.pg_get_expr(pol.polqual, pol.polrelid)
                  = pg_catalog.format('(%I = %s)', {col}, {wl})
        ) THEN
            EXECUTE pg_catalog.format('DROP POLICY IF EXISTS %I ON %s', {r}, rel.tbl);
            EXECUTE pg_catalog.format(
                'CREATE POLICY %I ON %s AS PERMISSIVE FOR SELECT TO %I USING (%I = %s)',
                {r}, rel.tbl, {r}, {col}, {wl});
        END IF;
        readable := CASE
            WHEN rel.relkind IN ('r', 'p') THEN rel.relrowsecurity AND NOT rel.relispartition
            WHEN rel.relkind = 'v' THEN {safe_view_sql("rel.oid")}
            ELSE false
        END;
        IF readable THEN
            IF rel.privs IS DISTINCT FROM ARRAY['SELECT']::text[] THEN
                IF rel.privs IS NOT NULL THEN
                    EXECUTE pg_catalog.format('REVOKE ALL ON TABLE %s FROM %I', rel.tbl, {r});
                END IF;
                EXECUTE pg_catalog.format('GRANT SELECT ON TABLE %s TO %I', rel.tbl, {r});
            END IF;
        ELSIF rel.privs IS NOT NULL THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON TABLE %s FROM %I', rel.tbl, {r});
            RAISE NOTICE 'revoked % on % from % (no row level security)',
                rel.privs, rel.tbl, {r};
        END IF;
    END LOOP;
END
$mfb$;"""


def tenant_limits_sql(role: str, limits: TenantLimits) -> str:
    """Reset every setting the tenant gave its own role, then set the plan's limits.

    A role may always `ALTER ROLE <itself> SET` a user-settable parameter (and change its own
    password); this puts the plan's values back. CONNECTION LIMIT and role settings need
    superuser or CREATEROLE (PG16+: with ADMIN on the role); temp_file_limit needs a superuser
    (PGC_SUSET). What the applying role may not do is reported as a WARNING, not an error:
    Heroku's default credential has neither (README: "What a tenant credential can do")."""
    if not TENANT_ROLE_RE.fullmatch(role):
        raise ValueError(f"'{role}' is not a tenant role (wl_<slug>_<id>_ro)")
    r = quote_literal(role)
    sets = "\n".join(
        f"        EXECUTE pg_catalog.format('ALTER ROLE %I SET {k} = %L', {r}, {quote_literal(v)});"
        for k, v in limits.settings().items()
    )
    su_sets = "\n".join(
        f"        EXECUTE pg_catalog.format('ALTER ROLE %I SET {k} = %L', {r}, {quote_literal(v)});"
        for k, v in limits.superuser_settings().items()
    )
    return f"""DO $mfb$
BEGIN
    BEGIN
        EXECUTE pg_catalog.format('ALTER ROLE %I RESET ALL', {r});
        EXECUTE pg_catalog.format('ALTER ROLE %I IN DATABASE %I RESET ALL', {r},
                                  pg_catalog.current_database());
        EXECUTE pg_catalog.format('ALTER ROLE %I CONNECTION LIMIT %s', {r},
                                  {int(limits.connection_limit)});
{sets}
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE WARNING 'tenant role %: connection limit and role settings not applied (%); '
                      'the applying role needs CREATEROLE (and ADMIN on the role) or superuser',
                      {r}, SQLERRM;
    END;
    BEGIN
{su_sets}
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE WARNING 'tenant role %: temp_file_limit not applied (%): PostgreSQL lets only a '
                      'superuser set it', {r}, SQLERRM;
    END;
END
$mfb$;"""


def large_objects_sql() -> str:
    """Nobody but a superuser may create large objects (EXECUTE on the creating functions
    revoked from PUBLIC). Only the functions' owner, the bootstrap superuser, can do this; for
    anyone else it is a WARNING and large objects stay creatable (Heroku)."""
    revokes = "\n".join(
        f"        REVOKE EXECUTE ON FUNCTION pg_catalog.{f} FROM PUBLIC;"
        for f in LARGE_OBJECT_CREATORS
    )
    return f"""DO $mfb$
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
{revokes}
    ELSE
        RAISE WARNING 'large objects: only a superuser can revoke lo_creat/lo_create/'
                      'lo_from_bytea from PUBLIC; tenants can still create large objects here';
    END IF;
END
$mfb$;"""


def database_hardening_sql(owner: str | None = None) -> str:
    """Database-wide: nobody but the schema's owner creates in `public` (CVE-2018-1058; the
    default up to PostgreSQL 14), and temporary tables only for the owner. REVOKE/GRANT by a
    role that owns neither the database nor `public` is a WARNING in PostgreSQL, not an error."""
    who = _role_sql(OWNER, owner)
    return (
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;\n"
        "DO $mfb$ BEGIN EXECUTE pg_catalog.format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', "
        "pg_catalog.current_database()); EXECUTE pg_catalog.format("
        "'GRANT TEMPORARY ON DATABASE %I TO %s', pg_catalog.current_database(), "
        + quote_literal(who)
        + "); END $mfb$;"
    )


def drop_tenant_policies_sql(role: str, schema: str) -> str:
    """Drop every policy named `role` on the tables of `schema`, and revoke the tenant's
    privileges on its relations."""
    return f"""DO $mfb$
DECLARE
    pol record;
BEGIN
    FOR pol IN
        SELECT p.polrelid::regclass AS tbl, p.polname
        FROM pg_catalog.pg_policy AS p
        JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = {quote_literal(schema)} AND p.polname = {quote_literal(role)}
    LOOP
        EXECUTE format('DROP POLICY %I ON %s', pol.polname, pol.tbl);
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {quote_literal(role)}) THEN
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', {quote_literal(schema)},
                       {quote_literal(role)});
    END IF;
END
$mfb$;"""


def _role_attributes_check(role: str) -> str:
    return (
        f"    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {quote_literal(role)}\n"
        "               AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb\n"
        "                    OR rolreplication)) THEN\n"
        f"        RAISE EXCEPTION 'tenant role % has elevated attributes (superuser, bypassrls, "
        "createrole, createdb or replication); refusing to use it as a tenant role', "
        f"{quote_literal(role)};\n"
        "    END IF;\n"
    )


def _create_role_sql(role: str) -> str:
    return (
        "DO $mfb$\nBEGIN\n"
        f"    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = "
        f"{quote_literal(role)}) THEN\n"
        f"        CREATE ROLE {quote_ident(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
        "NOREPLICATION NOBYPASSRLS INHERIT;\n"
        "    END IF;\n" + _role_attributes_check(role) + "END\n$mfb$;"
    )


def _require_role_sql(role: str, data_app: str) -> str:
    return (
        "DO $mfb$\nBEGIN\n"
        f"    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = "
        f"{quote_literal(role)}) THEN\n"
        f"        RAISE EXCEPTION 'tenant role % does not exist: create its Heroku credential "
        f"first (heroku pg:credentials:create -a {data_app} --name %)', "
        f"{quote_literal(role)}, {quote_literal(role)};\n"
        "    END IF;\n" + _role_attributes_check(role) + "END\n$mfb$;"
    )


def _stale_roles_sql(plan: AccessPlan, owner: str | None) -> str:
    keep = ", ".join(quote_literal(t.role) for t in plan.tenant_roles) or "NULL"
    for_role = quote_literal(_role_sql(OWNER, owner))
    sch = quote_literal(plan.schema)
    drop_role = plan.mode == "sql"
    body = f"""DO $mfb$
DECLARE
    r record;
    pol record;
BEGIN
    FOR r IN
        SELECT rolname FROM pg_catalog.pg_roles
        WHERE rolname ~ {quote_literal(TENANT_ROLE_PATTERN)}
          AND rolname <> ALL (ARRAY[{keep}]::text[])
        ORDER BY rolname
    LOOP
        FOR pol IN
            SELECT p.polrelid::regclass AS tbl
            FROM pg_catalog.pg_policy AS p
            JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
            JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
            WHERE n.nspname = {quote_literal(plan.schema)} AND p.polname = r.rolname
        LOOP
            EXECUTE format('DROP POLICY %I ON %s', r.rolname, pol.tbl);
        END LOOP;
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', {sch}, r.rolname);
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM %I', {sch}, r.rolname);
        EXECUTE format(
            'ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA %I REVOKE ALL ON TABLES FROM %I',
            {for_role}, {sch}, r.rolname);
        EXECUTE format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), r.rolname);
"""
    if drop_role:
        body += """        BEGIN
            EXECUTE format('DROP OWNED BY %I', r.rolname);
            EXECUTE format('DROP ROLE %I', r.rolname);
            RAISE NOTICE 'dropped tenant role % (not in this stack)', r.rolname;
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE WARNING 'tenant role % is not in this stack: its access here is revoked, but '
                          'it still has privileges in another database, so it was not dropped',
                          r.rolname;
        END;
"""
    else:
        body += (
            "        RAISE NOTICE 'revoked access of tenant role % (not in this stack)', "
            "r.rolname;\n"
        )
    body += "    END LOOP;\nEND\n$mfb$;"
    return body


def render_sql(
    plan: AccessPlan,
    *,
    owner: str | None = None,
    passwords: Mapping[str, str] | None = None,
    data_app: str = "cobenefits-api",
    drop_stale_roles: bool = True,
) -> str:
    """The idempotent SQL that `plan` stands for.

    owner: the owner (dbt) role name; None renders CURRENT_USER, i.e. apply it as the owner.
    passwords: role -> password, embedded as literals (local database only). Without them, sql
    mode sets each password from the psql variable `<role>_password` (an unset variable is a
    syntax error, so nothing is applied without a password).
    """
    who = owner or "the owner (dbt/global) credential"
    lines: list[str] = [
        f"-- Tenant access for stack '{plan.stack}': schema {plan.schema}, credential mode "
        f"{plan.mode}.",
        "-- Generated from the same model as the Pulumi component AnalyticsDatabase "
        "(components/postgres/access.py).",
        "-- Idempotent: safe to run again. Apply it in one transaction, as "
        f"{who if owner else who + ' (a superuser also works)'}:",
    ]
    if plan.mode == "sql" and plan.tenant_roles and not passwords:
        lines.append(
            '--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 --single-transaction '
            + " ".join(f"-v {password_variable(t.role)}=..." for t in plan.tenant_roles[:1])
            + " ... -f access.sql"
        )
        lines.append(
            "-- (one -v <role>_password=<generated secret> per tenant role; never typed "
            "by hand: `pulumi up` or `mfb-infra local up` generate them)"
        )
    else:
        lines.append(
            '--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 --single-transaction -f access.sql'
        )
    if plan.mode == "shared":
        lines.append(
            "-- WARNING: shared mode: no tenant roles; every tenant connection uses the owner "
            "credential and sees every white label's rows (staging only)."
        )
    owner_sql = _role_sql(OWNER, owner)

    lines += ["", "-- 1. Schemas dbt builds into, owned by the owner"]
    for s in plan.owner_schemas:
        lines.append(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(s)} AUTHORIZATION {owner_sql};")
        lines.append(f"ALTER SCHEMA {quote_ident(s)} OWNER TO {owner_sql};")

    lines += ["", "-- 2. Owner (dbt/global) rights: read the source tables, create in its schemas"]
    lines += [grant_sql(g, owner) for g in plan.owner_grants()]

    if plan.tenant_roles:
        lines += ["", "-- 3. Tenant roles"]
        for t in plan.tenant_roles:
            if plan.mode == "sql":
                lines.append(_create_role_sql(t.role))
                if passwords is not None:
                    if t.role not in passwords:
                        raise MissingTenantCredential(
                            t.slug, [x.slug for x in plan.tenant_roles if x.role in passwords]
                        )
                    pw = quote_literal(passwords[t.role])
                else:
                    pw = f":'{password_variable(t.role)}'"
                lines.append(f"ALTER ROLE {quote_ident(t.role)} WITH LOGIN PASSWORD {pw};")
            else:
                lines.append(_require_role_sql(t.role, data_app))

        lines += [
            "",
            "-- 4. Tenant grants: exactly CONNECT and USAGE on the schema; no default "
            "privileges (leftover ones revoked)",
        ]
        for t in plan.tenant_roles:
            lines.append(f"-- {t.slug} (white_label_id {t.white_label_id})")
            lines += [exact_grant_sql(g, owner) for g in plan.tenant_grants(t)]
            lines += [default_privilege_sql(d, owner) for d in plan.tenant_default_privileges(t)]

        lines += [
            "",
            "-- 5. Tenant limits: settings the tenant gave its own role reset, then connection "
            "limit, statement_timeout, idle_in_transaction_session_timeout, temp_file_limit",
        ]
        lines += [tenant_limits_sql(t.role, plan.limits) for t in plan.tenant_roles]

        lines += [
            "",
            "-- 6. Per relation: the tenant's policy and SELECT on every table with row level "
            "security (and security_invoker views over them); every other privilege revoked "
            "(dbt's post-hook does the same when it rebuilds a table)",
        ]
        for t in plan.tenant_roles:
            lines.append(
                tenant_access_sql(t.role, t.white_label_id, plan.schema, plan.white_label_column)
            )

    lines += [
        "",
        "-- 7. Database hardening: no CREATE on public and no temporary tables for PUBLIC "
        "(the owner keeps TEMPORARY); large objects only for superusers (needs a superuser)",
        database_hardening_sql(owner),
        large_objects_sql(),
    ]

    if drop_stale_roles:
        action = "revoked and dropped" if plan.mode == "sql" else "revoked"
        lines += [
            "",
            f"-- 8. Convention-named tenant roles not in this stack: policies and access {action}",
        ]
        lines.append(_stale_roles_sql(plan, owner))
    return "\n".join(lines) + "\n"
