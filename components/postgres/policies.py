"""Dynamic resource: a tenant's access to what already exists in the tenant schema.

pulumi-postgresql has no raw-SQL resource. When `pulumi up` adds a tenant role, dbt's post-hook
has not run yet, so the tables already in `analytics` carry no policy or SELECT for it.
`TenantPolicies` runs, in one transaction, the SQL `mfb-infra sql` prints
(`components.postgres.access`): the database hardening (no CREATE on public, no TEMPORARY for
PUBLIC), the tenant's limits (settings it gave its own role reset; connection limit, timeouts,
temp_file_limit where the login may set them), and per relation the policy named like the role
plus SELECT on every table with row level security (and security_invoker views over them),
every other privilege revoked. Deleting it drops those policies and privileges before the role
itself goes.

`read` (refresh) reports what is in effect — the role's limits and settings, relations the
tenant can read without row level security — so drift shows up as a diff and `up` puts it back.

Connection: host/user/password arrive as secret inputs (encrypted in state, never plain);
psycopg is imported inside the methods; nothing is kept on the provider instance. The class
path is pickled into state by reference: components/pg_sql.py keeps the pre-move path working.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components._dynamic import is_unknown
from components.postgres.access import (
    TENANT_ROLE_RE,
    TenantLimits,
    database_hardening_sql,
    drop_tenant_policies_sql,
    safe_view_sql,
    tenant_access_sql,
    tenant_limits_sql,
)

CONN_KEYS = ("host", "port", "dbname", "sslmode", "user", "password")
IDENTITY_KEYS = ("role", "white_label_id", "schema", "column")
# compared on diff, updated in place: the limits, and `exposed` (always [] as an input; `read`
# reports the relations the tenant can read without row level security)
SETTING_KEYS = ("limits", "exposed")
SECRET_KEYS = ("host", "user", "password")
LIMIT_KEYS = tuple(TenantLimits().as_dict())


def _connect(props: dict[str, Any]):
    import psycopg

    try:
        return psycopg.connect(
            host=props["host"],
            port=int(props["port"]),
            dbname=props["dbname"],
            user=props["user"],
            password=props["password"],
            sslmode=props.get("sslmode") or "require",
            connect_timeout=20,
            autocommit=False,
            application_name="mfb-analytics pulumi TenantPolicies",
        )
    except psycopg.OperationalError as e:
        # psycopg names the host and the user, both stack secrets: the engine prints provider
        # errors with their traceback, so say what failed without them
        reason = "password authentication failed" if "password" in str(e) else "unreachable"
        raise RuntimeError(
            f"TenantPolicies: cannot connect to the analytics database ({reason}); check "
            "databaseHost, databaseAdminUser, databaseAdminPassword and databaseSslMode"
        ) from None


def exposed_relations(conn, role: str, schema: str) -> list[str]:
    """Relations of `schema` the role can read that do not carry row level security (a view
    counts as carrying it when `safe_view_sql` holds), sorted."""
    rows = conn.execute(
        f"""
        SELECT c.relname
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND CASE WHEN c.relkind = 'S'
                   THEN pg_catalog.has_sequence_privilege(%s, c.oid, 'SELECT, USAGE')
                   ELSE pg_catalog.has_any_column_privilege(%s, c.oid, 'SELECT') END
          AND NOT CASE
              WHEN c.relkind IN ('r', 'p') THEN c.relrowsecurity
              WHEN c.relkind = 'v' THEN {safe_view_sql("c.oid")}
              ELSE false END
        ORDER BY c.relname
        """,
        (schema, role, role),
    ).fetchall()
    return [r[0] for r in rows]


def role_limits(conn, role: str) -> dict[str, Any]:
    """The limits in effect on `role` (pg_roles.rolconnlimit / rolconfig, readable by anyone),
    in the shape of TenantLimits.as_dict(); any other setting on the role under
    `other_settings`."""
    row = conn.execute(
        "SELECT r.rolconnlimit, coalesce(r.rolconfig, '{}'), coalesce((SELECT s.setconfig "
        "FROM pg_catalog.pg_db_role_setting AS s JOIN pg_catalog.pg_database AS d "
        "ON d.oid = s.setdatabase WHERE s.setrole = r.oid AND d.datname = current_database()), "
        "'{}') FROM pg_catalog.pg_roles AS r WHERE r.rolname = %s",
        (role,),
    ).fetchone()
    if row is None:
        return {}
    settings = dict(kv.split("=", 1) for kv in list(row[1]) + list(row[2]))

    def num(key: str, scale: int = 1) -> Any:
        v = settings.pop(key, None)
        return int(v) // scale if v is not None and v.isdigit() else v

    out: dict[str, Any] = {
        "connection_limit": int(row[0]),
        "statement_timeout_ms": num("statement_timeout"),
        "idle_in_transaction_timeout_ms": num("idle_in_transaction_session_timeout"),
        "temp_file_limit_mb": num("temp_file_limit", 1024),
    }
    if settings:
        out["other_settings"] = dict(sorted(settings.items()))
    return out


def _admin_powers(conn, role: str) -> tuple[bool, bool]:
    """(may set connection limit and settings on `role`, may set temp_file_limit)."""
    row = conn.execute(
        "SELECT rolsuper, rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = current_user"
    ).fetchone()
    is_super, createrole = bool(row[0]), bool(row[1])
    if is_super:
        return True, True
    if not createrole:
        return False, False
    if conn.info.server_version < 160000:
        return True, False
    admin = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members AS m WHERE m.roleid = "
        "(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = %s) AND m.member = "
        "(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) AND m.admin_option)",
        (role,),
    ).fetchone()[0]
    return bool(admin), False


def policy_tables(conn, role: str, schema: str) -> list[str]:
    """Tables of `schema` that carry a policy named `role`, sorted."""
    rows = conn.execute(
        """
        SELECT c.relname
        FROM pg_catalog.pg_policy AS p
        JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND p.polname = %s
        ORDER BY c.relname
        """,
        (schema, role),
    ).fetchall()
    return [r[0] for r in rows]


class TenantPoliciesProvider(ResourceProvider):
    """check/diff/create/read/update/delete for `TenantPolicies`."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        role = news.get("role")
        wl = news.get("white_label_id")
        # in preview, the role of a Heroku credential still to be created is unknown
        role_known, wl_known = not is_unknown(role), not is_unknown(wl)
        if role_known and (not isinstance(role, str) or not TENANT_ROLE_RE.fullmatch(role)):
            failures.append(
                CheckFailure(
                    "role", f"'{role}' is not a tenant role: it must match wl_<slug>_<id>_ro"
                )
            )
        wl_int: int | None = None
        if wl_known:
            try:
                wl_int = int(wl)  # type: ignore[arg-type]
                if wl_int <= 0:
                    raise ValueError
            except (TypeError, ValueError):
                failures.append(
                    CheckFailure(
                        "white_label_id", f"{wl!r} is not a positive integer white label id"
                    )
                )
                wl_int = None
        if role_known and isinstance(role, str) and wl_int is not None:
            m = TENANT_ROLE_RE.fullmatch(role)
            if m and int(m.group(2)) != wl_int:
                failures.append(
                    CheckFailure(
                        "white_label_id",
                        f"role '{role}' names white label {m.group(2)}, not {wl_int}: the role "
                        "name and the policy predicate must agree",
                    )
                )
        for key in ("schema", "column", "dbname", "host", "user", "password"):
            v = news.get(key)
            if is_unknown(v):
                continue
            if v is not None and not isinstance(v, str):
                failures.append(CheckFailure(key, "must be a string"))
            elif key in ("schema", "column", "dbname") and not v:
                failures.append(CheckFailure(key, "must not be empty"))
        try:
            if not is_unknown(news.get("port")):
                port = int(news.get("port", 5432))
                if not 0 < port < 65536:
                    raise ValueError
        except (TypeError, ValueError):
            failures.append(CheckFailure("port", f"{news.get('port')!r} is not a TCP port"))
        limits = news.get("limits")
        if limits is not None and not is_unknown(limits):
            if not isinstance(limits, dict) or set(limits) != set(LIMIT_KEYS):
                failures.append(
                    CheckFailure(
                        "limits", f"must be a mapping with exactly {', '.join(LIMIT_KEYS)}"
                    )
                )
            else:
                for k, v in limits.items():
                    if is_unknown(v):
                        continue
                    if isinstance(v, bool) or not isinstance(v, int | float) or int(v) < 1:
                        failures.append(
                            CheckFailure("limits", f"{k}: {v!r} is not a positive integer")
                        )
        inputs = dict(news)
        if wl_int is not None:
            inputs["white_label_id"] = wl_int
        if isinstance(limits, dict) and not failures:
            inputs["limits"] = {k: int(v) if not is_unknown(v) else v for k, v in limits.items()}
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in IDENTITY_KEYS if _norm(olds.get(k)) != _norm(news.get(k))]
        changes = replaces + [
            k for k in CONN_KEYS + SETTING_KEYS if _norm(olds.get(k)) != _norm(news.get(k))
        ]
        return DiffResult(
            changes=bool(changes),
            replaces=replaces,
            stables=[k for k in IDENTITY_KEYS if k not in replaces],
            # same policy names on the same tables: drop the old ones first
            delete_before_replace=True,
        )

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        """Apply everything in one transaction; the outputs that describe what took effect."""
        role, schema = props["role"], props["schema"]
        limits = TenantLimits(**{k: int(v) for k, v in (props.get("limits") or {}).items()})
        warnings: list[str] = []
        with _connect(props) as conn:
            conn.add_notice_handler(
                lambda d: (
                    warnings.append(d.message_primary or "")
                    if d.severity_nonlocalized == "WARNING"
                    else None
                )
            )
            role_exists = conn.execute(
                "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (role,)
            ).fetchone()
            if not role_exists:
                raise RuntimeError(
                    f"tenant role '{role}' does not exist in the database: it must be "
                    "created (Role or Heroku credential) before its policies"
                )
            conn.execute(database_hardening_sql())
            conn.execute(tenant_limits_sql(role, limits))
            conn.execute(
                tenant_access_sql(
                    role,
                    int(props["white_label_id"]),
                    schema,
                    props.get("column") or "white_label_id",
                )
            )
            tables = policy_tables(conn, role, schema)
            in_effect = role_limits(conn, role)
            conn.commit()
        for w in warnings:
            pulumi.log.warn(f"TenantPolicies {role}: {w}")
        return {
            "tables": tables,
            "exposed": [],
            "limits": limits.as_dict(),
            "role_limits": in_effect,
            "warnings": warnings,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._apply(props)
        return CreateResult(f"{props['schema']}/{props['role']}", {**props, **outs})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, **self._apply(news)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        schema, _, role = id_.partition("/")
        schema = props.get("schema") or schema
        role = props.get("role") or role
        with _connect(props) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (role,)
            ).fetchone()
            if not exists:
                return ReadResult(None, {})  # the role is gone, and its policies with it
            tables = policy_tables(conn, role, schema)
            exposed = exposed_relations(conn, role, schema)
            in_effect = role_limits(conn, role)
            may_set, may_set_temp = _admin_powers(conn, role)
        # report as `limits` what is in effect where this login could have set it, so a
        # tenant's own ALTER ROLE shows up as a diff; elsewhere (Heroku) the desired values stay
        limits = dict(props.get("limits") or {})
        if may_set:
            for k in ("connection_limit", "statement_timeout_ms", "idle_in_transaction_timeout_ms"):
                limits[k] = in_effect.get(k)
            if in_effect.get("other_settings"):
                limits["other_settings"] = in_effect["other_settings"]
        if may_set_temp:
            limits["temp_file_limit_mb"] = in_effect.get("temp_file_limit_mb")
        return ReadResult(
            id_,
            {
                **props,
                "schema": schema,
                "role": role,
                "tables": tables,
                "exposed": exposed,
                "limits": limits,
                "role_limits": in_effect,
            },
        )

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        with _connect(props) as conn:
            conn.execute(drop_tenant_policies_sql(props["role"], props["schema"]))
            conn.commit()


def _norm(v: Any) -> Any:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(int(v))
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in sorted(v.items())}
    if isinstance(v, list | tuple):
        return [_norm(x) for x in v]
    return v


class TenantPolicies(Resource, module="postgres", name="TenantPolicies"):
    """The policy named `role` on every RLS-enabled table of `schema` (see module doc)."""

    role: pulumi.Output[str]
    white_label_id: pulumi.Output[int]
    schema: pulumi.Output[str]
    tables: pulumi.Output[list[str]]
    role_limits: pulumi.Output[dict]
    warnings: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        *,
        role: pulumi.Input[str],
        white_label_id: int,
        schema: str,
        host: pulumi.Input[str],
        port: int,
        dbname: str,
        sslmode: str,
        user: pulumi.Input[str],
        password: pulumi.Input[str],
        column: str = "white_label_id",
        limits: TenantLimits | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "role": role,
            "white_label_id": white_label_id,
            "schema": schema,
            "column": column,
            "host": pulumi.Output.secret(host),
            "port": port,
            "dbname": dbname,
            "sslmode": sslmode,
            "user": pulumi.Output.secret(user),
            "password": pulumi.Output.secret(password),
            "limits": (limits or TenantLimits()).as_dict(),
            "exposed": [],
            "tables": None,
            "role_limits": None,
            "warnings": None,
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_KEYS))
        )
        super().__init__(TenantPoliciesProvider(), name, props, opts)
