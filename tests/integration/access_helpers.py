"""Helpers for the access/isolation tests: marts shaped like dbt's output, plan application."""

from __future__ import annotations

import dataclasses

import psycopg

from components.postgres.access import AccessPlan, TenantRole, render_sql
from mfb_infra.pgserver import PgServer

OWNER = "mfb_test_owner"
OWNER_PW = "owner-pw-test-only"  # throwaway server credential, test-only
TENANTS = (
    ("co", 1),
    ("co_tax_calculator", 3),
    ("cesn", 4),
    ("nc", 5),
    ("ma", 38),
    ("il", 39),
    ("tx", 40),
    ("wa", 41),
)
NO_TENANT_IDS = (2, 400)  # rows of white labels without a role: nobody but the owner sees them


def plan(tenants=TENANTS, mode: str = "sql") -> AccessPlan:
    return AccessPlan(
        stack="test",
        database="unused",
        schema="analytics",
        internal_schema="analytics_internal",
        mode=mode,  # type: ignore[arg-type]
        tenants=tuple(TenantRole(s, i, f"wl_{s}_{i}_ro") for s, i in tenants),
    )


def passwords(p: AccessPlan) -> dict[str, str]:
    return {t.role: f"pw-{t.role}-test" for t in p.tenant_roles}


def ensure_owner(pg: PgServer, db: str) -> None:
    pg.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{OWNER}') THEN "
        f"CREATE ROLE {OWNER} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$"
    )
    pg.execute(f"ALTER ROLE {OWNER} PASSWORD '{OWNER_PW}'")
    pg.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{db}" TO {OWNER}')


def apply(
    pg: PgServer,
    db: str,
    p: AccessPlan,
    *,
    drop_stale_roles: bool = False,
    pws: dict[str, str] | None = None,
) -> str:
    """Apply the rendered plan as the superuser (owner = OWNER), in one transaction."""
    ensure_owner(pg, db)
    sql = render_sql(
        p,
        owner=OWNER,
        passwords=pws if pws is not None else passwords(p),
        drop_stale_roles=drop_stale_roles,
    )
    with psycopg.connect(pg.dsn(db)) as conn:
        conn.execute(sql)  # type: ignore[arg-type]
        conn.commit()
    return sql


def source_tables(pg: PgServer, db: str) -> None:
    """Django-shaped base tables in public, owned by the superuser."""
    pg.execute(
        "CREATE TABLE public.screener_screen (id bigint PRIMARY KEY, white_label_id bigint);"
        "INSERT INTO public.screener_screen SELECT g, (ARRAY[1,3,4,5,38,39,40,41,2])"
        "[1 + g % 9] FROM generate_series(1, 90) g;"
        "CREATE TABLE public.screener_whitelabel (id bigint PRIMARY KEY, code text);"
        "INSERT INTO public.screener_whitelabel VALUES (1, 'co'), (5, 'nc');",
        db,
    )


MARTS = {
    "mart_screener_data": "id bigint, white_label_id bigint, submission_date date, county text",
    "mart_householdmembers": "screener_id bigint, white_label_id bigint, relationship text",
    "mart_referrer_codes": "referrer_code text, partner text, white_label_id bigint",
}


def build_marts(pg: PgServer, db: str, *, rls: bool = True) -> None:
    """Tables like dbt's marts, created by the owner: RLS enabled (not forced), an index on
    white_label_id, rows for every tenant, for ids without a tenant, and a NULL id."""
    ids = [i for _, i in TENANTS] + list(NO_TENANT_IDS)
    with psycopg.connect(pg.dsn(db, OWNER, OWNER_PW), autocommit=True) as conn:
        for name, cols in MARTS.items():
            conn.execute(f"CREATE TABLE analytics.{name} ({cols})")
            conn.execute(f"CREATE INDEX ON analytics.{name} (white_label_id)")
            if rls:
                conn.execute(f"ALTER TABLE analytics.{name} ENABLE ROW LEVEL SECURITY")
        for n in range(200):
            wl = ids[n % len(ids)] if n % 37 else None
            conn.execute(
                "INSERT INTO analytics.mart_screener_data VALUES (%s, %s, "
                "DATE '2026-01-01' + %s, %s)",
                (n, wl, n % 90, f"county-{n % 7}"),
            )
            conn.execute(
                "INSERT INTO analytics.mart_householdmembers VALUES (%s, %s, %s)",
                (n, wl, ["child", "spouse", "parent"][n % 3]),
            )
        for wl in ids:
            conn.execute(
                "INSERT INTO analytics.mart_referrer_codes VALUES (%s, %s, %s)",
                (f"ref-{wl}", f"Partner {wl}", wl),
            )


def with_mode(p: AccessPlan, mode: str) -> AccessPlan:
    return dataclasses.replace(p, mode=mode)  # type: ignore[arg-type]


def policy_rows(pg: PgServer, db: str, role: str) -> list[tuple]:
    return pg.execute(
        "SELECT tablename, permissive, roles::text[], cmd, qual FROM pg_policies "
        f"WHERE schemaname = 'analytics' AND policyname = '{role}' ORDER BY tablename",
        db,
    )
