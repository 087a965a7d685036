"""The dbt Postgres project on a real PostgreSQL: build, row-level security, incremental marts."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from mfb_infra.pgserver import PgServer
from mfb_infra.sample_data import load_sample_data
from tests.integration.dbt_fixtures import (
    MART_SCHEMA,
    OWNER,
    OWNER_PW,
    TENANT_PW,
    TENANT_ROLE_RE,
    TENANT_ROLES,
    DbtDb,
    copy_project,
    diff_counts,
    grant_sources,
    grant_tenant_select,
    grant_tenant_usage,
    postgres_mart_names,
    prepare_db,
    snapshot_marts,
)

pytestmark = [pytest.mark.postgres, pytest.mark.dbt]

SCREENS = 3000
_names = itertools.count()


def _new_db(pg: PgServer, prefix: str) -> str:
    name = f"{prefix}_{next(_names)}"
    pg.create_database(name)
    return name


@pytest.fixture(scope="module")
def built(pg_server: PgServer, tmp_path_factory) -> Iterator[tuple[DbtDb, object]]:
    """Sample data + one `dbt build` (result kept, so a failing build fails its own test)."""
    db = _new_db(pg_server, "dbt_build")
    dbdb = prepare_db(pg_server, db, SCREENS, tmp_path_factory.mktemp("dbt_build"))
    result = dbdb.run(["build"], check=False)
    if result.returncode == 0:
        grant_tenant_usage(pg_server, db, list(TENANT_ROLES))
    yield dbdb, result
    pg_server.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture(scope="module")
def dbdb(built) -> DbtDb:
    dbdb, result = built
    if result.returncode != 0:
        pytest.fail("dbt build failed; see test_dbt_build_passes_on_sample_data")
    return dbdb


def test_dbt_build_passes_on_sample_data(built):
    dbdb, result = built
    assert result.returncode == 0, result.stdout[-4000:]
    failures = [
        uid for uid, r in dbdb.run_results().items() if r["status"] not in ("success", "pass")
    ]
    assert failures == []


def test_build_creates_every_mart_with_rows(dbdb):
    for mart in postgres_mart_names():
        (count,) = dbdb.rows(f"SELECT count(*) FROM {MART_SCHEMA}.{mart}")[0]
        assert count > 0, mart


def test_screener_data_covers_all_tenants(dbdb):
    tenants = {
        wl
        for (wl,) in dbdb.rows(
            f"SELECT DISTINCT white_label_id FROM {MART_SCHEMA}.mart_screener_data"
        )
    }
    assert tenants == set(TENANT_ROLES.values())


def test_every_mart_has_row_level_security_enabled_not_forced(dbdb):
    rows = dict(
        (name, (rls, force))
        for name, rls, force in dbdb.rows(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{MART_SCHEMA}' "
            "AND c.relkind IN ('r', 'p')"
        )
    )
    for mart in postgres_mart_names():
        assert rows[mart] == (True, False), mart


def _policies(dbdb: DbtDb, mart: str) -> set[tuple]:
    return {
        (name, cmd, permissive, tuple(roles), qual)
        for name, cmd, permissive, roles, qual in dbdb.rows(
            "SELECT polname, polcmd, polpermissive, "
            "array(SELECT rolname FROM pg_roles WHERE oid = ANY(polroles) ORDER BY 1), "
            "pg_get_expr(polqual, polrelid) FROM pg_policy "
            f"WHERE polrelid = '{MART_SCHEMA}.{mart}'::regclass"
        )
    }


def test_every_mart_has_a_literal_select_policy_for_each_tenant_role(dbdb):
    for mart in postgres_mart_names():
        policies = _policies(dbdb, mart)
        for role, wl in TENANT_ROLES.items():
            assert (role, "r", True, (role,), f"(white_label_id = {wl})") in policies, mart


def test_every_mart_policy_is_bound_to_its_namesake_tenant_role(dbdb):
    # other tests on the shared server may add tenant roles: check the shape of every policy
    for mart in postgres_mart_names():
        for name, cmd, permissive, roles, qual in _policies(dbdb, mart):
            match = TENANT_ROLE_RE.match(name)
            assert match, (mart, name)
            assert (cmd, permissive, roles) == ("r", True, (name,)), (mart, name)
            assert qual == f"(white_label_id = {match.group(2)})", (mart, name)


def test_no_policy_applies_to_public(dbdb):
    public = dbdb.rows("SELECT polname FROM pg_policy WHERE 0 = ANY(polroles)")
    assert public == []


def test_every_mart_has_white_label_index(dbdb):
    for mart in postgres_mart_names():
        found = dbdb.rows(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            f"WHERE i.indrelid = '{MART_SCHEMA}.{mart}'::regclass "
            f"AND c.relname = 'idx_{mart}_white_label_id'"
        )
        assert found, mart


def test_staging_and_intermediate_live_outside_the_mart_schema(dbdb):
    schemas = {
        s
        for (s,) in dbdb.rows(
            "SELECT DISTINCT table_schema FROM information_schema.views "
            "WHERE table_name LIKE 'stg\\_%' OR table_name LIKE 'int\\_%'"
        )
    }
    assert schemas == {f"{MART_SCHEMA}_internal"}


def test_tenant_role_sees_exactly_its_own_rows(dbdb):
    owner_counts = dict(
        dbdb.rows(
            f"SELECT white_label_id, count(*) FROM {MART_SCHEMA}.mart_screener_data GROUP BY 1"
        )
    )
    seen = dbdb.rows(
        f"SELECT white_label_id, count(*) FROM {MART_SCHEMA}.mart_screener_data GROUP BY 1",
        user="wl_tx_40_ro",
        password=TENANT_PW,
    )
    assert seen == [(40, owner_counts[40])]


def test_tenant_gets_the_owners_plan_on_its_own_partition(dbdb):
    def plan(sql: str, **login) -> str:
        return "\n".join(r[0] for r in dbdb.rows(f"EXPLAIN (COSTS OFF) {sql}", **login))

    sql = f"SELECT count(*) FROM {MART_SCHEMA}.mart_householdmembers"
    tenant = plan(sql, user="wl_cesn_4_ro", password=TENANT_PW)
    assert "mart_householdmembers_wl4" in tenant
    assert "white_label_id = 4" in tenant
    assert tenant == plan(sql + " WHERE white_label_id = 4", user=OWNER, password=OWNER_PW)


def test_dbt_owner_bypasses_rls_as_table_owner(dbdb):
    tenants = dbdb.rows(
        f"SELECT count(DISTINCT white_label_id) FROM {MART_SCHEMA}.mart_screener_data",
        user=OWNER,
        password=OWNER_PW,
    )
    assert tenants == [(len(TENANT_ROLES),)]


def test_next_build_adds_a_policy_for_a_newly_created_tenant_role(dbdb):
    role = "wl_zz_77_ro"
    dbdb.rows(f"CREATE ROLE {role}")
    try:
        dbdb.run(["run", "--select", "mart_referrer_codes"])
        assert (role, "r", True, (role,), "(white_label_id = 77)") in _policies(
            dbdb, "mart_referrer_codes"
        )
    finally:
        dbdb.rows(f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_role_outside_the_tenant_pattern_sees_zero_rows(dbdb):
    dbdb.rows(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analyst_ro') "
        "THEN CREATE ROLE analyst_ro LOGIN PASSWORD 'analyst-pw'; END IF; END $$"
    )
    grant_tenant_select(dbdb.pg, dbdb.db, ["analyst_ro"])
    seen = dbdb.rows(
        f"SELECT count(*) FROM {MART_SCHEMA}.mart_screener_data",
        user="analyst_ro",
        password="analyst-pw",
    )
    assert seen == [(0,)]


def test_tenant_cannot_widen_its_view_with_a_session_setting(dbdb):
    import psycopg

    dsn = dbdb.pg.dsn(dbdb.db, "wl_ma_38_ro", TENANT_PW)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET app.white_label_id = '1'")
        seen = conn.execute(
            f"SELECT DISTINCT white_label_id FROM {MART_SCHEMA}.mart_screener_data"
        ).fetchall()
    assert seen == [(38,)]


def test_rebuild_drops_stray_and_orphaned_policies(dbdb):
    dbdb.rows(
        f"CREATE POLICY wl_gone_7_ro ON {MART_SCHEMA}.mart_referrer_codes "
        "FOR SELECT TO PUBLIC USING (true)"
    )
    dbdb.run(["run", "--select", "mart_referrer_codes"])
    stray = dbdb.rows("SELECT polname FROM pg_policy WHERE polname = 'wl_gone_7_ro'")
    assert stray == []


def test_rls_check_rejects_a_tenant_schema_model_without_the_hook(dbdb, tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "models" / "postgres" / "leaky_screens.sql").write_text(
        "{{ config(materialized='table') }}\n"
        "select id, white_label_id from {{ source('django_apps', 'screener_screen') }}\n"
    )
    result = dbdb.run(["run", "--select", "leaky_screens"], check=False, project_dir=project)
    assert result.returncode != 0
    assert "Row-level security check failed" in result.stdout
    assert "leaky_screens" in result.stdout
    assert dbdb.rows("SELECT to_regclass('analytics.leaky_screens') IS NULL") == [(True,)]


def test_no_rls_tag_opts_a_mart_out_explicitly(dbdb, tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "models" / "postgres" / "marts" / "mart_program_slugs.sql").write_text(
        "{{ config(tags=['no-rls']) }}\n"
        "select distinct benefit_name from {{ ref('stg_programs') }}\n"
    )
    dbdb.run(["run", "--select", "mart_program_slugs"], project_dir=project)
    assert dbdb.rows(
        "SELECT relrowsecurity FROM pg_class WHERE oid = 'analytics.mart_program_slugs'::regclass"
    ) == [(False,)]
    dbdb.rows("DROP TABLE analytics.mart_program_slugs")


# --- incremental ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def incremental(pg_server: PgServer, tmp_path_factory) -> Iterator[tuple[DbtDb, dict, dict]]:
    """Build, add ~1 % new rows + late updates, run incrementally, snapshot, full-refresh."""
    db = _new_db(pg_server, "dbt_incr")
    dbdb = prepare_db(pg_server, db, SCREENS, tmp_path_factory.mktemp("dbt_incr"))
    dbdb.run(["run"])
    snapshot_marts(dbdb, "before")
    appended = load_sample_data(pg_server.dsn(db), 0, 7, new_fraction=0.01)
    grant_sources(pg_server, db)
    dbdb.run(["run"])
    incremental_results = dbdb.run_results()
    snapshot_marts(dbdb, "incremental")
    dbdb.run(["run", "--full-refresh"])
    yield dbdb, appended, incremental_results
    pg_server.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.mark.parametrize("mart", postgres_mart_names())
def test_incremental_after_new_rows_equals_full_refresh(incremental, mart):
    dbdb, _appended, _results = incremental
    assert diff_counts(dbdb, "incremental", MART_SCHEMA, mart) == (0, 0)


def test_incremental_run_picked_up_the_new_and_late_rows(incremental):
    dbdb, appended, _results = incremental
    assert appended["updates"]["late_snapshots"] > 0
    changed = diff_counts(dbdb, "before", "incremental", "mart_screener_data")
    assert changed[0] > 0 and changed[1] > 0


def test_incremental_run_reprocesses_only_changed_screens(incremental):
    dbdb, _appended, results = incremental
    (total,) = dbdb.rows(f"SELECT count(*) FROM {MART_SCHEMA}.mart_screener_data")[0]
    node = next(r for uid, r in results.items() if uid.endswith(".mart_screener_data"))
    inserted = node["adapter_response"]["rows_affected"]
    assert 0 < inserted < total * 0.05


SCREEN_KEYS = {
    "mart_screener_data": "id",
    "mart_householdmembers": "screen_id",
    "mart_income": "screen_id",
    "mart_screener_expense": "screen_id",
    "mart_current_benefits": "screen_id",
    "mart_qualified_benefits": "screen_id",
}


@pytest.mark.parametrize("mart", sorted(SCREEN_KEYS))
def test_screen_flagged_as_test_later_leaves_the_mart(incremental, mart):
    dbdb, _appended, _results = incremental
    late = (
        "SELECT b.id FROM before.mart_screener_data b "
        "JOIN public.screener_screen s ON s.id = b.id WHERE s.is_test_data"
    )
    assert dbdb.rows(f"SELECT count(*) FROM ({late}) x")[0][0] > 0
    key = SCREEN_KEYS[mart]
    leftovers = dbdb.rows(f"SELECT count(*) FROM incremental.{mart} WHERE {key} IN ({late})")
    assert leftovers == [(0,)]


def _policy_oids(dbdb: DbtDb) -> set[tuple]:
    return set(
        dbdb.rows(
            "select c.relname, p.polname, p.oid from pg_policy p "
            "join pg_class c on c.oid = p.polrelid "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'analytics'"
        )
    )


def test_rebuild_with_unchanged_roles_keeps_every_policy_object(dbdb):
    """No DROP/CREATE POLICY (an ACCESS EXCLUSIVE lock readers queue behind) when nothing
    changed: the policies of the incremental marts are the very same catalog rows."""
    before = _policy_oids(dbdb)
    dbdb.run(["run", "--select", "mart_income"])
    after = _policy_oids(dbdb)
    income = {r for r in before if r[0] == "mart_income"}
    assert income and income <= after


def test_incremental_over_a_table_of_the_previous_pipeline_says_to_full_refresh(
    pg_server, tmp_path
):
    db = _new_db(pg_server, "dbt_legacy")
    try:
        dbdb = prepare_db(pg_server, db, 300, tmp_path)
        dbdb.rows(
            "create schema analytics authorization dbt_owner; "
            "create table analytics.mart_screener_data (id bigint, white_label_id bigint); "
            "alter table analytics.mart_screener_data owner to dbt_owner"
        )
        result = dbdb.run(["run", "--select", "mart_screener_data"], check=False)
        assert result.returncode != 0 and "--full-refresh" in (result.stdout + result.stderr)
    finally:
        pg_server.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
