"""Dynamic resource: a tenant's row-level-security policies on the marts that already exist.

pulumi-postgresql has no raw-SQL resource. When `pulumi up` adds a tenant role, dbt's post-hook
has not run yet, so the tables already in `analytics` have no policy for it and the tenant would
see nothing until the nightly build. `TenantPolicies` creates the policy named exactly like the
role on every table of the schema with row level security enabled (the SQL comes from
`components.postgres.access`, the same text `mfb-infra sql` prints); deleting it drops those
policies before the role itself goes.

Connection: host/user/password arrive as secret inputs (encrypted in state, never plain);
psycopg is imported inside the methods; nothing is kept on the provider instance.
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
    drop_tenant_policies_sql,
    tenant_policies_sql,
)

CONN_KEYS = ("host", "port", "dbname", "sslmode", "user", "password")
IDENTITY_KEYS = ("role", "white_label_id", "schema", "column")
SECRET_KEYS = ("host", "user", "password")


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
        inputs = dict(news)
        if wl_int is not None:
            inputs["white_label_id"] = wl_int
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in IDENTITY_KEYS if _norm(olds.get(k)) != _norm(news.get(k))]
        changes = replaces + [k for k in CONN_KEYS if _norm(olds.get(k)) != _norm(news.get(k))]
        return DiffResult(
            changes=bool(changes),
            replaces=replaces,
            stables=[k for k in IDENTITY_KEYS if k not in replaces],
            # same policy names on the same tables: drop the old ones first
            delete_before_replace=True,
        )

    def _apply(self, props: dict[str, Any]) -> list[str]:
        sql = tenant_policies_sql(
            props["role"],
            int(props["white_label_id"]),
            props["schema"],
            props.get("column") or "white_label_id",
        )
        with _connect(props) as conn:
            role_exists = conn.execute(
                "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (props["role"],)
            ).fetchone()
            if not role_exists:
                raise RuntimeError(
                    f"tenant role '{props['role']}' does not exist in the database: it must be "
                    "created (Role or Heroku credential) before its policies"
                )
            conn.execute(sql)
            tables = policy_tables(conn, props["role"], props["schema"])
            conn.commit()
        return tables

    def create(self, props: dict[str, Any]) -> CreateResult:
        tables = self._apply(props)
        return CreateResult(f"{props['schema']}/{props['role']}", {**props, "tables": tables})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, "tables": self._apply(news)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        schema, _, role = id_.partition("/")
        schema = props.get("schema") or schema
        role = props.get("role") or role
        with _connect(props) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (role,)
            ).fetchone()
            tables = policy_tables(conn, role, schema) if exists else []
        if not exists:
            return ReadResult(None, {})  # the role is gone, and its policies with it
        return ReadResult(id_, {**props, "schema": schema, "role": role, "tables": tables})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        with _connect(props) as conn:
            conn.execute(drop_tenant_policies_sql(props["role"], props["schema"]))
            conn.commit()


def _norm(v: Any) -> Any:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(int(v))
    return v


class TenantPolicies(Resource, module="postgres", name="TenantPolicies"):
    """The policy named `role` on every RLS-enabled table of `schema` (see module doc)."""

    role: pulumi.Output[str]
    white_label_id: pulumi.Output[int]
    schema: pulumi.Output[str]
    tables: pulumi.Output[list[str]]

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
            "tables": None,
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_KEYS))
        )
        super().__init__(TenantPoliciesProvider(), name, props, opts)
