"""`mfb-infra preflight`: halt a deploy whose data is not there yet.

The order problem: a card (or a tenant's row level security policy) reaches Metabase before dbt
has built the table or column it reads. Preflight derives, from what the stack would deploy,

- every mart and column the stack's Postgres cards read — parsed from the rendered card SQL with
  sqlglot, each column resolved to the table it comes from (CTEs and aliases followed);
- every mart a Metabase database connection waits for (`required_tables` in databases.yaml);
- for the tenants' policies: `white_label_id` on every mart a tenant reads and on every table
  with row level security (TenantPolicies creates `USING (white_label_id = <id>)` on each), and
  row level security switched on for every mart a tenant's own role reads;
- the tenant roles: a role that already exists must not be able to bypass row level security;

then reads the live database's catalog in one read-only transaction (`pg_catalog` only, no
table data) and fails naming the card, the missing column and the dbt model to run first.

Connection: `--dsn` (URL or libpq keywords); whatever it leaves out comes from libpq's
environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE), so CI passes the owner
credential through the environment, never on a command line.
Exit status: 0 ready, 1 not ready (each problem printed), 2 usage/connection error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from mfb_infra.program import REPO

DBT_MARTS_DIR = REPO / "dbt" / "models" / "postgres" / "marts"
MARTS_CONTRACT = REPO / "dashboards" / "content" / "marts.yaml"
WHITE_LABEL_COLUMN = "white_label_id"
_VARIABLE_RE = re.compile(r"\{\{\s*\w+\s*\}\}")
_OPTIONAL_RE = re.compile(r"\[\[(.*?)\]\]", re.S)


class PreflightError(RuntimeError):
    """Cannot run the check at all (connection, bad stack): exit 2."""


# --------------------------------------------------------------------------------------------
# What the stack needs (from the repository alone)
# --------------------------------------------------------------------------------------------
@dataclass
class Needs:
    schema: str
    mode: str  # tenant credential mode
    # (table, column) -> who needs it ("card 'Top Counties' (nc/top_counties, top_counties.sql)")
    columns: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # table -> who needs it
    tables: dict[str, set[str]] = field(default_factory=dict)
    tenant_tables: set[str] = field(default_factory=set)  # marts a tenant connection reads
    tenant_roles: dict[str, int] = field(default_factory=dict)  # role -> white_label_id
    bigquery_cards: int = 0

    def need_table(self, table: str, who: str) -> None:
        self.tables.setdefault(table, set()).add(who)

    def need_column(self, table: str, column: str, who: str) -> None:
        self.need_table(table, who)
        self.columns.setdefault((table, column), set()).add(who)


def contract_schema() -> dict[str, set[str]]:
    """Columns the repository says each Postgres mart has: dashboards/content/marts.yaml plus
    the columns the dbt model ymls document (used to resolve the card SQL's column references)."""
    out: dict[str, set[str]] = {
        t: set(cols) for t, cols in (yaml.safe_load(MARTS_CONTRACT.read_text())["postgres"]).items()
    }
    for path in DBT_MARTS_DIR.glob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            out.setdefault(model["name"], set()).update(
                c["name"] for c in model.get("columns") or []
            )
    return out


def widest_sql(sql: str) -> str:
    """The query with every optional clause kept and each variable a literal (what Metabase runs
    when every dashboard filter is set: the most columns the card can read)."""
    sql = _OPTIONAL_RE.sub(r"\1", sql)
    return _VARIABLE_RE.sub("'2000-01-01'", sql)


def card_columns(
    sql: str, schema: str, known: Mapping[str, Iterable[str]]
) -> tuple[set[str], set[tuple[str, str]], list[str]]:
    """(tables, (table, column) pairs, unresolved column names) a Postgres card reads in
    `schema`. Columns are resolved through aliases and CTEs to the physical table (sqlglot's
    qualify, against the `known` columns)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import traverse_scope

    tree = sqlglot.parse_one(widest_sql(sql), dialect="postgres")
    mapping = {schema: {t: {c: "TEXT" for c in cols} for t, cols in known.items()}}
    tree = qualify(
        tree,
        schema=mapping,
        dialect="postgres",
        validate_qualify_columns=False,
        quote_identifiers=False,
        identify=False,
    )
    tables: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    unresolved: list[str] = []
    for scope in traverse_scope(tree):
        physical = {
            alias: src
            for alias, src in scope.sources.items()
            if isinstance(src, exp.Table) and src.db == schema
        }
        tables.update(src.name for src in physical.values())
        for col in scope.columns:
            src = scope.sources.get(col.table)
            if isinstance(src, exp.Table) and src.db == schema:
                pairs.add((src.name, col.name))
            elif not col.table and len(physical) == 1:
                pairs.add((next(iter(physical.values())).name, col.name))
            elif not col.table and physical:
                unresolved.append(col.name)
    return tables, pairs, unresolved


def stack_needs(stack: str) -> Needs:
    """What `stack`'s content and policies need from the analytics database."""
    from components.metabase_content.definitions import GLOBAL, render_for_config
    from components.postgres.access import plan_for
    from mfb_infra.sql import load_stack_config

    cfg = load_stack_config(stack)
    plan = render_for_config(cfg, bigquery=False)
    access = plan_for(cfg, stack)
    needs = Needs(schema=plan.schema, mode=access.mode)
    needs.tenant_roles = {t.role: t.white_label_id for t in access.tenant_roles}
    known = contract_schema()
    engines = {d.ref: d.engine for d in plan.databases}
    for db in plan.databases:
        if db.engine != "postgres":
            continue
        for t in db.required_tables:
            table = t.split(".", 1)[1] if "." in t else t
            needs.need_table(table, f"Metabase database '{db.name}' (waits for its sync)")
            if db.scope != GLOBAL:
                needs.tenant_tables.add(table)
    for card in plan.cards:
        if engines.get(card.database) != "postgres":
            needs.bigquery_cards += 1
            continue
        who = f"card '{card.name}' (dashboards/sql/{card.source})"
        tables, pairs, unresolved = card_columns(card.sql, plan.schema, known)
        for table in tables:
            needs.need_table(table, who)
            if card.scope != GLOBAL:
                needs.tenant_tables.add(table)
        for table, column in pairs:
            needs.need_column(table, column, who)
        for column in unresolved:
            needs.need_column("?", column, who)
    for table in sorted(needs.tenant_tables):
        needs.need_column(
            table, WHITE_LABEL_COLUMN, "the tenants' row level security policies (white_label_id)"
        )
    return needs


# --------------------------------------------------------------------------------------------
# What the database has (catalog only, read-only)
# --------------------------------------------------------------------------------------------
@dataclass
class Catalog:
    schema_exists: bool
    columns: dict[str, set[str]]  # table -> columns
    kinds: dict[str, str]  # table -> relkind
    rls: dict[str, bool]  # table -> relrowsecurity
    roles: dict[str, dict[str, bool]]  # tenant-pattern role -> attributes
    database: str = ""
    user: str = ""


CATALOG_SQL = """
SELECT c.relname, c.relkind, c.relrowsecurity, a.attname
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute AS a
       ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY c.relname, a.attnum
"""
ROLES_SQL = """
SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin
FROM pg_catalog.pg_roles WHERE rolname ~ %s ORDER BY rolname
"""


def read_catalog(conn: Any, schema: str) -> Catalog:
    """Read the catalog inside one READ ONLY transaction (rolled back; nothing is written)."""
    from components.postgres.access import TENANT_ROLE_PATTERN

    conn.read_only = True  # psycopg: every transaction on this connection is READ ONLY
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET LOCAL statement_timeout = '60s'")
            ro = conn.execute("SHOW transaction_read_only").fetchone()[0]
            if ro != "on":  # never read the catalog in a transaction that could write
                raise PreflightError("could not open a read-only transaction")
            db, user = conn.execute("SELECT current_database(), current_user").fetchone()
            exists = conn.execute(
                "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s", (schema,)
            ).fetchone()
            columns: dict[str, set[str]] = {}
            kinds: dict[str, str] = {}
            rls: dict[str, bool] = {}
            for rel, kind, rowsec, att in conn.execute(CATALOG_SQL, (schema,)).fetchall():
                columns.setdefault(rel, set())
                if att:
                    columns[rel].add(att)
                kinds[rel], rls[rel] = kind, bool(rowsec)
            roles = {
                r[0]: {
                    "superuser": r[1],
                    "bypassrls": r[2],
                    "createrole": r[3],
                    "createdb": r[4],
                    "replication": r[5],
                    "login": r[6],
                }
                for r in conn.execute(ROLES_SQL, (TENANT_ROLE_PATTERN,)).fetchall()
            }
    finally:
        conn.read_only = False
    return Catalog(bool(exists), columns, kinds, rls, roles, database=db, user=user)


# --------------------------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------------------------
@dataclass
class Problem:
    subject: str
    message: str


@dataclass
class PreflightReport:
    stack: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def format(self) -> str:
        head = (
            f"preflight OK: the database holds everything stack '{self.stack}' needs"
            if self.ok
            else f"preflight FAILED for stack '{self.stack}': {len(self.problems)} problem(s); "
            "do not deploy until they are fixed"
        )
        lines = [head]
        if self.checked:
            lines.append(
                "  checked: " + ", ".join(f"{n} {what}" for what, n in self.checked.items())
            )
        lines += [f"  - {p.subject}: {p.message}" for p in self.problems]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def _model_hint(table: str) -> str:
    model = DBT_MARTS_DIR / f"{table}.sql"
    if model.is_file():
        return (
            f"run the dbt model {table} first (`dbt build --select +{table}`; model "
            f"dbt/models/postgres/marts/{table}.sql), then deploy"
        )
    return (
        f"no dbt model builds {table} (dbt/models/postgres/marts/{table}.sql is missing): add the "
        "model, run it, then deploy"
    )


def _who(names: set[str], limit: int = 40) -> str:
    ordered = sorted(names)
    shown = ", ".join(ordered[:limit])
    return shown + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


def compare(needs: Needs, catalog: Catalog, stack: str) -> PreflightReport:
    report = PreflightReport(stack=stack)
    schema = needs.schema
    report.checked = {
        "marts": len(needs.tables),
        "columns": len(needs.columns),
        "tenant roles": len(needs.tenant_roles),
    }
    if not catalog.schema_exists:
        report.problems.append(
            Problem(
                f"schema {schema}",
                f"does not exist in database {catalog.database!r}: dbt has not built the marts "
                "yet — run `dbt build` (the 'dbt nightly build' workflow, run by hand) first",
            )
        )
        return report
    dbt_cols = contract_schema()
    for table in sorted(needs.tables):
        if table == "?":
            continue
        if table not in catalog.columns:
            report.problems.append(
                Problem(
                    f"{schema}.{table}",
                    f"missing; needed by {_who(needs.tables[table])}. {_model_hint(table)}",
                )
            )
    for (table, column), who in sorted(needs.columns.items()):
        if table == "?":
            report.problems.append(
                Problem(f"column {column}", f"not found in any mart its query reads; {_who(who)}")
            )
            continue
        have = catalog.columns.get(table)
        if have is None or column in have:
            continue  # a missing table is reported once, above
        hint = _model_hint(table)
        if column not in dbt_cols.get(table, set()):
            hint += f" (the model documents no column {column}: add it to the model first)"
        report.problems.append(
            Problem(f"{schema}.{table}.{column}", f"missing; needed by {_who(who)}. {hint}")
        )
    if needs.mode != "shared":
        for table in sorted(needs.tenant_tables):
            if table in catalog.columns and not catalog.rls.get(table):
                kind = {"v": "a view", "m": "a materialized view"}.get(
                    catalog.kinds.get(table, ""), "a table"
                )
                report.problems.append(
                    Problem(
                        f"{schema}.{table}",
                        f"{kind} without row level security: a tenant's own role would see "
                        f"every white label's rows. {_model_hint(table)} (the marts folder's "
                        "post-hook enables row level security)",
                    )
                )
        for table in sorted(catalog.columns):
            if catalog.rls.get(table) and WHITE_LABEL_COLUMN not in catalog.columns[table]:
                report.problems.append(
                    Problem(
                        f"{schema}.{table}.{WHITE_LABEL_COLUMN}",
                        "missing on a table with row level security: the tenants' policies "
                        f"(USING ({WHITE_LABEL_COLUMN} = <id>)) cannot be created. "
                        + _model_hint(table),
                    )
                )
    elevated = ("superuser", "bypassrls", "createrole", "createdb", "replication")
    for role in sorted(needs.tenant_roles):
        attrs = catalog.roles.get(role)
        if attrs is None:
            report.notes.append(f"tenant role {role} does not exist yet; this deploy creates it")
            continue
        bad = [a for a in elevated if attrs.get(a)]
        if bad:
            report.problems.append(
                Problem(
                    f"role {role}",
                    f"has {', '.join(bad)}: a tenant role must not bypass row level security "
                    f"(ALTER ROLE {role} NO{' NO'.join(b.upper() for b in bad)})",
                )
            )
    stale = sorted(set(catalog.roles) - set(needs.tenant_roles))
    if stale and needs.mode != "shared":
        report.notes.append(
            f"tenant-pattern roles not in this stack: {', '.join(stale)} (the next dbt build drops "
            "their policies; remove the roles once the tenant is gone)"
        )
    if needs.bigquery_cards:
        report.notes.append(f"{needs.bigquery_cards} BigQuery cards are not checked here")
    return report


def run(stack: str, dsn: str) -> PreflightReport:
    import psycopg

    needs = stack_needs(stack)
    try:
        conn = psycopg.connect(dsn, connect_timeout=20, application_name="mfb-infra preflight")
    except psycopg.Error as e:
        raise PreflightError(f"cannot connect: {str(e).strip().splitlines()[0]}") from None
    with conn:
        catalog = read_catalog(conn, needs.schema)
    return compare(needs, catalog, stack)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="mfb-infra preflight",
        description="Before `pulumi up`: check, read-only, that the live analytics database "
        "holds every mart, column and tenant role the stack's content and policies need.",
    )
    ap.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    ap.add_argument(
        "--dsn",
        default="",
        help="libpq URL or keywords of the analytics database as the owner credential; parts "
        "left out come from PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE/PGSSLMODE",
    )
    args = ap.parse_args(argv)
    if not args.dsn and not os.environ.get("PGHOST"):
        print("error: give --dsn or set PGHOST (and PGUSER, PGPASSWORD, ...)", file=sys.stderr)
        return 2
    from components.config import ConfigError

    try:
        report = run(args.stack, args.dsn)
    except (PreflightError, ConfigError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(report.format())
    return 0 if report.ok else 1
