"""dbt's side of tenant isolation on a real PostgreSQL: the start-of-run check covers models,
seeds and snapshots; the post-hook grants SELECT with RLS in the model's transaction; views reach
tenants only with security_invoker; a tenant holding a lock makes the build fail fast, naming
it; a function planted in `public` does not bind to dbt's SQL. Each defence has a control."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mfb_infra.pgserver import PgServer
from tests.integration.dbt_fixtures import (
    MART_SCHEMA,
    OWNER,
    TENANT_PW,
    TENANT_ROLES,
    DbtDb,
    copy_project,
    grant_tenant_usage,
    prepare_db,
)

pytestmark = [pytest.mark.postgres, pytest.mark.dbt]

TENANT = "wl_nc_5_ro"


@pytest.fixture(scope="module")
def dbdb(pg_server: PgServer, tmp_path_factory) -> Iterator[DbtDb]:
    db = "dbt_guards"
    pg_server.create_database(db)
    dbdb = prepare_db(pg_server, db, 300, tmp_path_factory.mktemp("dbt_guards"))
    dbdb.run(["run"])
    grant_tenant_usage(pg_server, db, list(TENANT_ROLES))  # what Pulumi grants: USAGE only
    yield dbdb
    pg_server.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _tenant(dbdb: DbtDb, role: str = TENANT):
    return psycopg.connect(dbdb.pg.dsn(dbdb.db, role, TENANT_PW), autocommit=True)


def _tenant_read(dbdb: DbtDb, relation: str):
    with _tenant(dbdb) as conn:
        try:
            return conn.execute(f"SELECT * FROM {relation}").fetchall()
        except psycopg.errors.InsufficientPrivilege as e:
            return e


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    project = copy_project(tmp_path / "project")
    for rel, text in files.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return project


def _refused(dbdb: DbtDb, project: Path, args: list[str], *names: str) -> str:
    result = dbdb.run(args, check=False, project_dir=project)
    assert result.returncode != 0, result.stdout[-2000:]
    assert "Row-level security check failed" in result.stdout, result.stdout[-2000:]
    for n in names:
        assert n in result.stdout
    return result.stdout


# ---- the marts themselves ------------------------------------------------------------------
def test_the_post_hook_grants_tenants_select_on_each_mart_with_its_rls(dbdb):
    rows = dbdb.rows(
        "SELECT c.relname, c.relrowsecurity, has_table_privilege(%s, c.oid, 'SELECT') "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'analytics' AND c.relkind IN ('r', 'p') ORDER BY 1".replace(
            "%s", f"'{TENANT}'"
        )
    )
    assert rows and all(rls and readable for _, rls, readable in rows)
    with _tenant(dbdb) as conn:
        ids = conn.execute(f"SELECT DISTINCT white_label_id FROM {MART_SCHEMA}.mart_screener_data")
        assert ids.fetchall() == [(5,)]


def test_a_full_rebuild_keeps_the_grant_and_the_policies(dbdb):
    dbdb.run(["run", "--select", "mart_referrer_codes", "--full-refresh"])
    assert {r[2] for r in _tenant_read(dbdb, f"{MART_SCHEMA}.mart_referrer_codes")} == {5}


# ---- the start-of-run check ------------------------------------------------------------------
def test_check_refuses_a_seed_in_the_tenant_schema_without_the_hook(dbdb, tmp_path):
    project = _project(tmp_path, {"seeds/wl_codes.csv": "white_label_id,code\n5,nc\n1,co\n"})
    _refused(dbdb, project, ["seed", "--select", "wl_codes"], "seed wl_codes")


def test_check_refuses_a_snapshot_in_the_tenant_schema_without_the_hook(dbdb, tmp_path):
    snap = (
        "{% snapshot screens_snap %}\n"
        "{{ config(target_schema='analytics', unique_key='id', strategy='check', "
        "check_cols='all') }}\n"
        "select id, white_label_id from {{ source('django_apps', 'screener_screen') }}\n"
        "{% endsnapshot %}\n"
    )
    project = _project(tmp_path, {"snapshots/screens_snap.sql": snap})
    _refused(dbdb, project, ["snapshot", "--select", "screens_snap"], "snapshot screens_snap")


def test_check_refuses_a_no_rls_view_without_security_invoker(dbdb, tmp_path):
    view = (
        "{{ config(materialized='view', tags=['no-rls']) }}\n"
        "select county, count(*) as n from {{ ref('mart_screener_data') }} group by county\n"
    )
    project = _project(tmp_path, {"models/postgres/by_county.sql": view})
    _refused(dbdb, project, ["run", "--select", "by_county"], "by_county", "security_invoker")


def test_check_refuses_an_rls_hook_outside_the_models_transaction(dbdb, tmp_path):
    model = (
        "{{ config(post_hook=[{'sql': '{{ apply_tenant_rls() }}', 'transaction': False}]) }}\n"
        "select * from {{ ref('int_referrer_partners') }}\n"
    )
    project = _project(tmp_path, {"models/postgres/marts/mart_late_rls.sql": model})
    _refused(dbdb, project, ["run", "--select", "mart_late_rls"], "mart_late_rls", "transaction")


def test_control_without_the_check_an_unhooked_seed_builds_in_the_tenant_schema(dbdb, tmp_path):
    project = _project(tmp_path, {"seeds/wl_codes2.csv": "white_label_id,code\n5,nc\n1,co\n"})
    yml = (project / "dbt_project.yml").read_text()
    (project / "dbt_project.yml").write_text(yml.replace('  - "{{ enforce_tenant_rls() }}"', ""))
    dbdb.run(["seed", "--select", "wl_codes2"], project_dir=project)
    assert dbdb.rows("SELECT to_regclass('analytics.wl_codes2') IS NOT NULL") == [(True,)]
    dbdb.rows("DROP TABLE analytics.wl_codes2")


# ---- what builds: no-rls relations and views ---------------------------------------------------
def test_a_no_rls_seed_builds_and_no_tenant_can_read_it(dbdb, tmp_path):
    project = _project(tmp_path, {"seeds/lookup_codes.csv": "white_label_id,code\n5,nc\n1,co\n"})
    yml = (project / "dbt_project.yml").read_text()
    (project / "dbt_project.yml").write_text(
        yml.replace("seeds:\n  mfb_analytics:\n", "seeds:\n  mfb_analytics:\n    +tags: [no-rls]\n")
    )
    dbdb.run(["seed", "--select", "lookup_codes"], project_dir=project)
    try:
        assert isinstance(
            _tenant_read(dbdb, "analytics.lookup_codes"), psycopg.errors.InsufficientPrivilege
        )
        # control: the old plan's default privilege would have handed it to every tenant
        dbdb.rows(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA analytics "
            f"GRANT SELECT ON TABLES TO {TENANT}"
        )
        dbdb.run(["seed", "--select", "lookup_codes", "--full-refresh"], project_dir=project)
        assert len(_tenant_read(dbdb, "analytics.lookup_codes")) == 2
    finally:
        dbdb.rows(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA analytics "
            f"REVOKE ALL ON TABLES FROM {TENANT}"
        )
        dbdb.rows("DROP TABLE IF EXISTS analytics.lookup_codes")


def test_a_no_rls_view_gets_security_invoker_and_no_tenant_grant(dbdb, tmp_path):
    view = (
        "{{ config(materialized='view', tags=['no-rls']) }}\n"
        "select county, white_label_id from {{ ref('mart_screener_data') }}\n"
    )
    project = _project(tmp_path, {"models/postgres/marts/mart_counties.sql": view})
    dbdb.run(["run", "--select", "mart_counties"], project_dir=project)
    try:
        assert isinstance(
            _tenant_read(dbdb, "analytics.mart_counties"), psycopg.errors.InsufficientPrivilege
        )
        # granted by hand anyway, security_invoker keeps RLS in force ...
        dbdb.rows(f"GRANT SELECT ON analytics.mart_counties TO {TENANT}")
        assert {r[1] for r in _tenant_read(dbdb, "analytics.mart_counties")} == {5}
        # ... control: a definer view (the upstream leak) shows every white label
        dbdb.rows("ALTER VIEW analytics.mart_counties SET (security_invoker = false)")
        assert len({r[1] for r in _tenant_read(dbdb, "analytics.mart_counties")}) > 1
    finally:
        dbdb.rows("DROP VIEW IF EXISTS analytics.mart_counties")


def test_a_tenant_view_over_rls_marts_reaches_tenants_with_their_rows_only(dbdb, tmp_path):
    view = (
        "{{ config(materialized='view') }}\n"
        "select white_label_id, count(*) as screens from {{ ref('mart_screener_data') }} "
        "group by white_label_id\n"
    )
    project = _project(tmp_path, {"models/postgres/marts/mart_screen_counts.sql": view})
    dbdb.run(["run", "--select", "mart_screen_counts"], project_dir=project)
    try:
        assert [r[0] for r in _tenant_read(dbdb, "analytics.mart_screen_counts")] == [5]
    finally:
        dbdb.rows("DROP VIEW IF EXISTS analytics.mart_screen_counts")


def test_a_tenant_view_over_a_table_without_rls_fails_the_build(dbdb, tmp_path):
    view = (
        "{{ config(materialized='view') }}\nselect white_label_id from {{ ref('stg_screens') }}\n"
    )
    project = _project(tmp_path, {"models/postgres/marts/mart_raw_screens.sql": view})
    result = dbdb.run(["run", "--select", "mart_raw_screens"], check=False, project_dir=project)
    assert result.returncode != 0
    assert "would show tenants rows without row level security" in result.stdout
    assert dbdb.rows("SELECT to_regclass('analytics.mart_raw_screens') IS NULL") == [(True,)]


# ---- a tenant holding a lock ------------------------------------------------------------------
def _hold_lock(dbdb: DbtDb, ready: threading.Event, release: threading.Event) -> None:
    with _tenant(dbdb) as conn:
        conn.execute("SET idle_in_transaction_session_timeout = 0")  # a session may lift it
        conn.execute("BEGIN")
        conn.execute(f"SELECT count(*) FROM {MART_SCHEMA}.mart_referrer_codes").fetchone()
        ready.set()
        release.wait(60)
        conn.execute("ROLLBACK")


def _rebuild_while_locked(dbdb: DbtDb, lock_timeout: str, timeout: float):
    ready, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(dbdb, ready, release))
    holder.start()
    assert ready.wait(20)
    start = time.monotonic()
    try:
        result = dbdb.run(
            [
                "run",
                "--select",
                "mart_referrer_codes",
                "--full-refresh",
                "--vars",
                f"{{lock_timeout: '{lock_timeout}'}}",
            ],
            check=False,
            timeout=timeout,
        )
        return result, time.monotonic() - start
    finally:
        release.set()
        holder.join(30)


def test_a_tenant_holding_a_lock_makes_the_rebuild_fail_fast_naming_it(dbdb):
    result, took = _rebuild_while_locked(dbdb, "2s", timeout=120)
    assert result.returncode != 0
    assert f"blocked by {TENANT} (pid" in result.stdout, result.stdout[-3000:]
    assert took < 60


def test_control_without_lock_timeout_the_rebuild_waits_for_the_tenant(dbdb):
    with pytest.raises(subprocess.TimeoutExpired):
        _rebuild_while_locked(dbdb, "0", timeout=25)


# ---- public schema -------------------------------------------------------------------------
PLANT = """
CREATE FUNCTION public.mfb_planted_eq(varchar, varchar) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'planted operator ran as %', current_user; END $$;
CREATE OPERATOR public.= (leftarg = varchar, rightarg = varchar,
                          function = public.mfb_planted_eq);
"""
PROBE = (
    "{{ config(materialized='table', schema='internal') }}\n"
    "select ('a'::varchar = 'a'::varchar) as same\n"
)


@pytest.fixture
def planted(dbdb):
    dbdb.rows(PLANT)  # what a tenant could do if `public` were writable (PostgreSQL <= 14)
    yield
    dbdb.rows(
        "DROP OPERATOR IF EXISTS public.= (varchar, varchar); "
        "DROP FUNCTION IF EXISTS public.mfb_planted_eq(varchar, varchar)"
    )


def test_an_operator_planted_in_public_does_not_bind_to_dbt(dbdb, planted, tmp_path):
    project = _project(tmp_path, {"models/postgres/staging/probe_eq.sql": PROBE})
    dbdb.run(["run", "--select", "probe_eq"], project_dir=project)
    assert dbdb.rows("SELECT same FROM analytics_internal.probe_eq") == [(True,)]


def test_control_without_the_pinned_search_path_dbt_runs_the_planted_operator(
    dbdb, planted, tmp_path
):
    project = _project(tmp_path, {"models/postgres/staging/probe_eq2.sql": PROBE})
    profiles = (project / "profiles.yml").read_text()
    (project / "profiles.yml").write_text(profiles.replace('search_path: "pg_catalog,pg_temp"', ""))
    result = dbdb.run(
        ["run", "--select", "probe_eq2"],
        check=False,
        project_dir=project,
    )
    assert result.returncode != 0 and "planted operator ran as" in result.stdout
