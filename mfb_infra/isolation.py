"""The isolation proof: log in as every tenant role and show what it can and cannot see or do.

Used by `mfb-infra local up` (printed) and by the integration tests (asserted). Every check
connects with the tenant's own password over TCP, exactly as Metabase would.

Checks
- every relation of the schema a tenant can read carries row level security — with or without a
  white_label_id column: a table with RLS on (not a partition read on its own), or a view with
  security_invoker over such tables only; no default privileges hand tenants future relations;
- every tenant × every tenant mart: the policy named like the role exists, and the tenant sees
  exactly the rows (count and content hash) the owner sees with WHERE white_label_id = <id>, and
  no row of another white label (ids sharing digits: 1, 3, 4, 5, 38–41);
- roles outside the wl_<slug>_<id>_ro convention, given the same grants, see 0 rows;
- a tenant cannot read the public base tables, cannot write, cannot create objects (nor
  temporary tables, nor large objects where the plan was applied by a superuser);
- the tenant role carries the plan's limits (connection limit, timeouts, temp_file_limit) and no
  other setting;
- bypass attempts fail: SET app.white_label_id, set_config(...), SET ROLE / SET SESSION
  AUTHORIZATION to another tenant or the owner, RESET ROLE, and a leaky function (or an
  error-raising expression) in the WHERE clause.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from components.postgres.access import LARGE_OBJECT_CREATORS, TenantLimits

OUTSIDER_ROLES = ("mfb_isolation_outsider", "wl_isolation_probe_ro_x")  # no convention match


@dataclass(frozen=True)
class TenantLogin:
    slug: str
    white_label_id: int
    role: str
    password: str


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""
    tenant: str | None = None  # per-tenant checks are grouped by name in the short report


@dataclass
class IsolationReport:
    marts: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # slug -> mart -> rows
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, detail: str = "", tenant: str | None = None) -> None:
        self.checks.append(Check(name, ok, detail, tenant))

    def check(self, name: str, tenant: str | None = None) -> Check:
        for c in self.checks:
            if c.name == name and c.tenant == tenant:
                return c
        raise KeyError(f"no check {name!r} for tenant {tenant!r}")

    def format(self, verbose: bool = False) -> str:
        passed = sum(c.ok for c in self.checks)
        lines = [
            f"Isolation proof: {passed}/{len(self.checks)} checks passed"
            + ("" if self.ok else "  <-- FAILED")
        ]
        groups: dict[str, list[Check]] = {}
        for c in self.checks:
            groups.setdefault(c.name, []).append(c)
        for name, checks in groups.items():
            bad = [c for c in checks if not c.ok]
            if checks[0].tenant is None or verbose:
                for c in checks:
                    who = f"{c.tenant}: " if c.tenant else ""
                    lines.append(
                        f"  [{'ok' if c.ok else 'FAIL'}] {who}{name}"
                        + (f" — {c.detail}" if c.detail else "")
                    )
                continue
            tenants = f"{len(checks) - len(bad)}/{len(checks)} tenants"
            lines.append(f"  [{'FAIL' if bad else 'ok'}] {name} — {tenants}")
            lines += [f"      {c.tenant}: {c.detail}" for c in bad]
        return "\n".join(lines)


def dsn_with_login(dsn: str, user: str, password: str | None) -> str:
    """The same server and database as `dsn`, logging in as `user` (libpq rules, any form)."""
    from mfb_infra.conninfo import with_login

    return with_login(dsn, user, password)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _connect(dsn: str):
    import psycopg

    return psycopg.connect(dsn, autocommit=True, connect_timeout=20)


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _denied(conn, sql: str) -> tuple[bool, str]:
    """True when `sql` fails with insufficient_privilege (42501)."""
    import psycopg

    try:
        with conn.transaction():
            conn.execute(sql)
    except psycopg.errors.InsufficientPrivilege as e:
        return True, str(e).splitlines()[0]
    except psycopg.Error as e:
        return False, f"failed differently: {type(e).__name__}: {str(e).splitlines()[0]}"
    return False, "succeeded"


def _fingerprint(conn, table: str, where: str = "") -> tuple[int, str]:
    row = conn.execute(
        f"SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), ''))"
        f" FROM {table} AS t {where}"
    ).fetchone()
    return int(row[0]), str(row[1])


def tenant_marts(conn, schema: str) -> list[str]:
    """Tables of `schema` with row level security enabled (the tenant marts), sorted;
    partitions are read through their parent, not on their own."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'p') "
        "AND c.relrowsecurity AND NOT c.relispartition ORDER BY c.relname",
        (schema,),
    ).fetchall()
    return [r[0] for r in rows]


# --------------------------------------------------------------------------------------------
# the proof
# --------------------------------------------------------------------------------------------
def prove_isolation(
    admin_dsn: str,
    tenants: Sequence[TenantLogin],
    *,
    schema: str = "analytics",
    source_schema: str = "public",
    owner_role: str | None = None,
    column: str = "white_label_id",
    dsn_for: Callable[[str, str], str] | None = None,
    limits: TenantLimits | None = None,
) -> IsolationReport:
    """Run every check. `admin_dsn` must be a role that bypasses RLS (owner or superuser) and
    can create/drop roles (for the outsider probes); tenants log in via `dsn_for(role, pw)`."""
    login = dsn_for or (lambda user, pw: dsn_with_login(admin_dsn, user, pw))
    report = IsolationReport()
    with _connect(admin_dsn) as admin:
        report.marts = marts = tenant_marts(admin, schema)
        report.add(
            "tenant marts found",
            bool(marts),
            f"{len(marts)} tables with row level security in {schema}",
        )
        if not tenants:
            report.add("tenant roles present", False, "no tenant roles to test")
            return report
        owner = (
            owner_role
            or admin.execute(
                "SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace "
                "WHERE nspname = %s",
                (schema,),
            ).fetchone()[0]
        )
        _check_exposed_relations(admin, report, tenants, schema)
        _check_default_privileges(admin, report, tenants)
        if limits is not None:
            _check_limits(admin, report, tenants, limits)
        lo_blocked = not any(
            admin.execute(
                "SELECT has_function_privilege('public', %s, 'EXECUTE')", (f"pg_catalog.{f}",)
            ).fetchone()[0]
            for f in LARGE_OBJECT_CREATORS
        )
        expected = {
            (t.slug, m): _fingerprint(
                admin, f"{_qi(schema)}.{_qi(m)}", f"WHERE {_qi(column)} = {int(t.white_label_id)}"
            )
            for t in tenants
            for m in marts
        }
        policies = {
            (r[0], r[1]): (r[2], r[3], r[4], r[5])
            for r in admin.execute(
                "SELECT tablename, policyname, permissive, roles::text[], cmd, qual "
                "FROM pg_catalog.pg_policies WHERE schemaname = %s",
                (schema,),
            ).fetchall()
        }
        source_tables = [
            r[0]
            for r in admin.execute(
                "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r','p','v','m') "
                "ORDER BY c.relname",
                (source_schema,),
            ).fetchall()
        ]

    for t in tenants:
        _check_policies(report, t, marts, policies, column)
        with _connect(login(t.role, t.password)) as conn:
            _check_rows(report, conn, t, marts, expected, schema, column)
            _check_source(report, conn, t, source_tables, source_schema)
            _check_no_write(report, conn, t, marts, schema)
            _check_no_create(report, conn, t, schema, source_schema)
            _check_no_scratch_space(report, conn, t, lo_blocked)
            _check_bypass(report, conn, t, tenants, owner, marts, expected, schema, column)
    _check_outsiders(report, admin_dsn, login, marts, schema)
    return report


def _check_exposed_relations(admin, report, tenants, schema) -> None:
    from components.postgres.policies import exposed_relations

    bad = [f"{t.role}:{rel}" for t in tenants for rel in exposed_relations(admin, t.role, schema)]
    report.add(
        "every relation a tenant can read carries row level security (tables with RLS, "
        "security_invoker views over them)",
        not bad,
        ", ".join(bad) if bad else "",
    )


def _check_default_privileges(admin, report, tenants) -> None:
    rows = admin.execute(
        "SELECT d.defaclrole::regrole::text, n.nspname, g.grantee::regrole::text, "
        "g.privilege_type FROM pg_catalog.pg_default_acl d "
        "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace, "
        "pg_catalog.aclexplode(d.defaclacl) g "
        "WHERE g.grantee IN (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ANY(%s))",
        ([t.role for t in tenants],),
    ).fetchall()
    report.add(
        "no default privileges give tenants future relations",
        not rows,
        "; ".join(
            f"{r[2]} gets {r[3]} on what {r[0]} creates in {r[1] or 'any schema'}" for r in rows
        ),
    )


def _check_limits(admin, report, tenants, limits: TenantLimits) -> None:
    from components.postgres.policies import role_limits

    want = limits.as_dict()
    problems = []
    for t in tenants:
        got = role_limits(admin, t.role)
        if got != want:
            diff = {k: got.get(k) for k in set(got) | set(want) if got.get(k) != want.get(k)}
            problems.append(f"{t.role}: {diff}")
    report.add(
        f"tenant roles carry the limits and no other setting (connection limit "
        f"{limits.connection_limit}, statement_timeout {limits.statement_timeout_ms} ms, "
        f"idle in transaction {limits.idle_in_transaction_timeout_ms} ms, temp files "
        f"{limits.temp_file_limit_mb} MB)",
        not problems,
        "; ".join(problems),
    )


def _check_no_scratch_space(report, conn, t, lo_blocked: bool) -> None:
    attempts = {"temporary table": "CREATE TEMPORARY TABLE mfb_probe_tmp (i int)"}
    if lo_blocked:
        attempts["large object (lo_create)"] = "SELECT pg_catalog.lo_create(0)"
        attempts["large object (lo_from_bytea)"] = "SELECT pg_catalog.lo_from_bytea(0, 'x')"
    allowed = [k for k, sql in attempts.items() if not _denied(conn, sql)[0]]
    report.add(
        f"cannot write scratch data ({', '.join(attempts)})",
        not allowed,
        ", ".join(allowed),
        t.slug,
    )


def _check_policies(report, t: TenantLogin, marts, policies, column) -> None:
    problems = []
    want_qual = f"({column} = {int(t.white_label_id)})"
    for m in marts:
        pol = policies.get((m, t.role))
        if pol is None:
            problems.append(f"{m}: missing")
            continue
        permissive, roles, cmd, qual = pol
        if (
            permissive != "PERMISSIVE"
            or list(roles) != [t.role]
            or cmd != "SELECT"
            or qual != want_qual
        ):
            problems.append(f"{m}: {permissive} {cmd} TO {roles} USING {qual}")
    report.add(
        "policy named like the role on every mart, FOR SELECT TO the role USING "
        "(white_label_id = <id>)",
        not problems,
        "; ".join(problems),
        t.slug,
    )


def _check_rows(report, conn, t, marts, expected, schema, column) -> None:
    mismatches, foreign = [], []
    counts: dict[str, int] = {}
    for m in marts:
        table = f"{_qi(schema)}.{_qi(m)}"
        got = _fingerprint(conn, table)
        counts[m] = got[0]
        if got != expected[(t.slug, m)]:
            mismatches.append(f"{m}: {got[0]} rows vs owner's {expected[(t.slug, m)][0]}")
        other = conn.execute(
            f"SELECT count(*) FROM {table} WHERE {_qi(column)} IS DISTINCT FROM "
            f"{int(t.white_label_id)}"
        ).fetchone()[0]
        if other:
            foreign.append(f"{m}: {other}")
    report.rows[t.slug] = counts
    total = sum(counts.values())
    report.add(
        f"sees exactly the rows the owner sees with WHERE {column} = <id>, every mart "
        "(count + content hash)",
        not mismatches,
        "; ".join(mismatches) if mismatches else f"{total} rows, content hashes equal",
        t.slug,
    )
    report.add("sees no row of another white label", not foreign, "; ".join(foreign), t.slug)


def _check_source(report, conn, t, source_tables, source_schema) -> None:
    readable = [
        s
        for s in source_tables
        if not _denied(conn, f"SELECT 1 FROM {_qi(source_schema)}.{_qi(s)} LIMIT 1")[0]
    ]
    report.add(
        f"cannot read the {source_schema} base tables ({len(source_tables)})",
        bool(source_tables) and not readable,
        ", ".join(readable) if readable else "",
        t.slug,
    )


def _check_no_write(report, conn, t, marts, schema) -> None:
    allowed = []
    for m in marts:
        table = f"{_qi(schema)}.{_qi(m)}"
        for sql in (
            f"INSERT INTO {table} DEFAULT VALUES",
            f"UPDATE {table} SET white_label_id = white_label_id",
            f"DELETE FROM {table}",
            f"TRUNCATE {table}",
        ):
            denied, detail = _denied(conn, sql)
            if not denied:
                allowed.append(f"{sql.split()[0]} {m}: {detail}")
    report.add(
        "cannot INSERT/UPDATE/DELETE/TRUNCATE any mart", not allowed, "; ".join(allowed), t.slug
    )


def _check_no_create(report, conn, t, schema, source_schema) -> None:
    probe = f"mfb_probe_{secrets.token_hex(4)}"
    attempts = {
        f"table in {schema}": f"CREATE TABLE {_qi(schema)}.{probe} (i int)",
        f"view in {schema}": f"CREATE VIEW {_qi(schema)}.{probe} AS SELECT 1 AS i",
        f"function in {schema}": f"CREATE FUNCTION {_qi(schema)}.{probe}() RETURNS int "
        "LANGUAGE sql AS 'SELECT 1'",
        f"table in {source_schema}": f"CREATE TABLE {_qi(source_schema)}.{probe} (i int)",
        "schema": f"CREATE SCHEMA {probe}",
    }
    allowed = [k for k, sql in attempts.items() if not _denied(conn, sql)[0]]
    report.add(
        f"cannot create objects ({', '.join(attempts)})", not allowed, ", ".join(allowed), t.slug
    )


def _check_bypass(report, conn, t, tenants, owner, marts, expected, schema, column) -> None:
    import psycopg

    if not marts:
        return
    mart = "mart_screener_data" if "mart_screener_data" in marts else marts[0]
    table = f"{_qi(schema)}.{_qi(mart)}"
    own = expected[(t.slug, mart)]
    other = next((o for o in tenants if o.role != t.role), None)
    other_id = other.white_label_id if other else t.white_label_id + 1
    problems: list[str] = []

    for label, sql in (
        ("SET app.white_label_id", f"SET app.white_label_id = '{int(other_id)}'"),
        ("set_config", f"SELECT set_config('app.white_label_id', '{int(other_id)}', false)"),
    ):
        conn.execute(sql)
        if _fingerprint(conn, table) != own:
            problems.append(f"{label} changed the rows seen")
        conn.execute("RESET app.white_label_id")

    targets = [(f"SET ROLE {other.role}", f"SET ROLE {_qi(other.role)}")] if other else []
    targets += [
        (f"SET ROLE {owner} (owner)", f"SET ROLE {_qi(owner)}"),
        ("SET ROLE postgres", "SET ROLE postgres"),
        (f"SET SESSION AUTHORIZATION {owner}", f"SET SESSION AUTHORIZATION {_qi(owner)}"),
    ]
    if other:
        targets.append(
            (
                f"SET SESSION AUTHORIZATION {other.role}",
                f"SET SESSION AUTHORIZATION {_qi(other.role)}",
            )
        )
    for label, sql in targets:
        denied, detail = _denied(conn, sql)
        if not denied:
            problems.append(f"{label}: {detail}")
    conn.execute("RESET ROLE")
    who = conn.execute("SELECT current_user, session_user").fetchone()
    if tuple(who) != (t.role, t.role) or _fingerprint(conn, table) != own:
        problems.append(f"RESET ROLE left the session as {who} or changed the rows seen")

    # an error-raising expression evaluated on other tenants' rows would reveal them
    try:
        with conn.transaction():
            n = conn.execute(
                f"SELECT count(*) FROM {table} WHERE 1 / ({_qi(column)} - {int(other_id)}) "
                "IS NOT NULL"
            ).fetchone()[0]
        if n != own[0]:
            problems.append(f"division probe returned {n} rows, expected {own[0]}")
    except psycopg.errors.DivisionByZero:
        problems.append("division probe hit another white label's row (division by zero)")

    # a non-leakproof function that reports every value it is called with
    leaked: list[str] = []
    notices: list[str] = []

    def on_notice(diag) -> None:
        notices.append(diag.message_primary or "")

    conn.add_notice_handler(on_notice)
    fn = f"pg_temp.mfb_leak_{secrets.token_hex(3)}"
    try:
        with conn.transaction():
            conn.execute(
                f"CREATE FUNCTION {fn}(v bigint) RETURNS boolean LANGUAGE plpgsql "
                "COST 0.0001 AS $f$ BEGIN RAISE NOTICE 'mfb-leak %', v; "
                "RETURN true; END $f$"
            )
            conn.execute(f"SELECT count(*) FROM {table} WHERE {fn}({_qi(column)})").fetchone()
            conn.execute(f"DROP FUNCTION {fn}(bigint)")
        leaked = sorted(
            {m.split()[-1] for m in notices if m.startswith("mfb-leak")} - {str(t.white_label_id)}
        )
        leak_note = "leaky function saw only own rows"
    except psycopg.errors.InsufficientPrivilege:
        leak_note = "leaky function: cannot even create a temporary function"
    finally:
        conn.remove_notice_handler(on_notice)
    if leaked:
        problems.append(f"leaky function saw white_label_id(s) {', '.join(leaked)}")
    report.add(
        "bypass attempts fail (SET app.white_label_id, set_config, SET ROLE / SET "
        "SESSION AUTHORIZATION to another tenant or the owner, RESET ROLE, leaky WHERE)",
        not problems,
        "; ".join(problems) if problems else leak_note,
        t.slug,
    )


def _check_outsiders(report, admin_dsn, login, marts, schema) -> None:
    seen: dict[str, int] = {}
    with _connect(admin_dsn) as admin:
        pw = secrets.token_urlsafe(18)
        for role in OUTSIDER_ROLES:
            admin.execute(f"DROP ROLE IF EXISTS {_qi(role)}")
            admin.execute(f"CREATE ROLE {_qi(role)} LOGIN PASSWORD '{pw}'")
            admin.execute(f"GRANT USAGE ON SCHEMA {_qi(schema)} TO {_qi(role)}")
            admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {_qi(schema)} TO {_qi(role)}")
        try:
            for role in OUTSIDER_ROLES:
                with _connect(login(role, pw)) as conn:
                    seen[role] = sum(
                        conn.execute(f"SELECT count(*) FROM {_qi(schema)}.{_qi(m)}").fetchone()[0]
                        for m in marts
                    )
        finally:
            for role in OUTSIDER_ROLES:
                admin.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {_qi(schema)} FROM {_qi(role)}")
                admin.execute(f"REVOKE ALL ON SCHEMA {_qi(schema)} FROM {_qi(role)}")
                admin.execute(f"DROP ROLE IF EXISTS {_qi(role)}")
    report.add(
        f"roles outside the convention ({', '.join(OUTSIDER_ROLES)}) see 0 rows with "
        "the same grants",
        bool(seen) and not any(seen.values()),
        ", ".join(f"{r}: {n}" for r, n in seen.items()),
    )
