"""The rendered access SQL on a real PostgreSQL: idempotent, equal to the Pulumi resources,
fail-closed, and tenant changes applied at once."""

from __future__ import annotations

import shutil
import subprocess

import psycopg
import pytest

from components.postgres.access import render_sql
from mfb_infra.program import run_program, unwrap
from mfb_infra.sql import stack_plan
from tests.integration.access_helpers import (
    OWNER,
    apply,
    build_marts,
    plan,
    policy_rows,
    source_tables,
    with_mode,
)

pytestmark = pytest.mark.postgres

PRIV_NAMES = {
    "r": "SELECT",
    "a": "INSERT",
    "w": "UPDATE",
    "d": "DELETE",
    "D": "TRUNCATE",
    "x": "REFERENCES",
    "t": "TRIGGER",
}


def _catalog(pg, db) -> dict:
    """Everything the plan controls, read back from the catalogs."""
    q = {
        "db": "SELECT g.grantee::regrole::text, g.privilege_type FROM pg_database d, "
        "aclexplode(d.datacl) g WHERE d.datname = current_database() AND g.grantee <> 0",
        "schema": "SELECT n.nspname, g.grantee::regrole::text, g.privilege_type "
        "FROM pg_namespace n, aclexplode(n.nspacl) g WHERE n.nspname LIKE 'analytics%' "
        "AND g.grantee <> 0",
        "tables": "SELECT c.relname, g.grantee::regrole::text, g.privilege_type FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) g "
        "WHERE n.nspname = 'analytics' AND c.relkind = 'r'",
        "defaults": "SELECT d.defaclrole::regrole::text, n.nspname, d.defaclobjtype, "
        "g.grantee::regrole::text, g.privilege_type FROM pg_default_acl d "
        "JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) g",
        "policies": "SELECT tablename, policyname, permissive, roles::text[], cmd, qual "
        "FROM pg_policies WHERE schemaname = 'analytics'",
        "owners": "SELECT nspname, nspowner::regrole::text FROM pg_namespace "
        "WHERE nspname LIKE 'analytics%'",
        "roles": "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin "
        "FROM pg_roles WHERE rolname ~ '^wl_'",
    }
    return {k: sorted(pg.execute(sql, db)) for k, sql in q.items()}


@pytest.fixture
def built(pg_db):
    pg, db = pg_db
    source_tables(pg, db)
    apply(pg, db, plan())
    build_marts(pg, db)
    apply(pg, db, plan())
    return pg, db


def test_applying_twice_changes_nothing(built):
    pg, db = built
    before = _catalog(pg, db)
    apply(pg, db, plan())
    assert _catalog(pg, db) == before


def test_applied_sql_grants_equal_the_registered_pulumi_grants(pg_db):
    """The same model rendered both ways: what the SQL leaves in the catalogs is what the
    pulumi-postgresql resources declare."""
    pg, db = pg_db
    p = with_mode(stack_plan("production"), "sql")
    source_tables(pg, db)
    apply(pg, db, p)
    build_marts(pg, db)
    apply(pg, db, p)
    cat = _catalog(pg, db)
    tables = {t for t, _, _ in cat["tables"]}
    tenants = {t.role for t in p.tenant_roles}
    applied = set()
    for role, priv in cat["db"]:
        if role in tenants:
            applied.add((role, "database", None, priv))
    for schema, role, priv in cat["schema"]:
        if role in tenants:
            applied.add((role, "schema", schema, priv))
    # per relation, not per schema: every tenant has SELECT, and only SELECT, on each RLS mart
    assert {(t, r, pv) for t, r, pv in cat["tables"] if r in tenants} == {
        (t, r, "SELECT") for t in tables for r in tenants
    }
    applied_defaults = {
        (role, owner, schema, priv)
        for owner, schema, typ, role, priv in cat["defaults"]
        if role in tenants and typ == "r"
    }

    run = run_program("production", {"databaseTenantCredentialMode": "sql"})
    registered = set()
    for r in run.of_type("postgresql:index/grant:Grant"):
        i = unwrap(r.inputs)
        for priv in i["privileges"]:
            registered.add((i["role"], i["objectType"], i.get("schema"), priv))
    registered_defaults = set()
    for r in run.of_type("postgresql:index/defaultPrivileges:DefaultPrivileges"):
        i = unwrap(r.inputs)
        for priv in i["privileges"]:
            registered_defaults.add((i["role"], OWNER, i["schema"], priv))  # owner = admin
    assert applied == registered
    assert applied_defaults == registered_defaults == set()
    # the DefaultPrivileges resources exist to revoke: one per tenant, no privileges
    defaults = run.of_type("postgresql:index/defaultPrivileges:DefaultPrivileges")
    assert len(defaults) == len(tenants)
    assert all(unwrap(r.inputs)["privileges"] == [] for r in defaults)


def test_schemas_belong_to_the_owner(built):
    pg, db = built
    assert _catalog(pg, db)["owners"] == [("analytics", OWNER), ("analytics_internal", OWNER)]


def test_owner_can_read_the_source_tables(built):
    pg, db = built
    rows = pg.execute(
        "SELECT has_table_privilege('mfb_test_owner', 'public.screener_screen', 'SELECT')", db
    )
    assert rows == [(True,)]


def test_a_new_tenant_gets_policies_on_existing_marts_at_once(built):
    pg, db = built
    bigger = plan(tenants=(*[(t.slug, t.white_label_id) for t in plan().tenant_roles], ("ga", 42)))
    apply(pg, db, bigger)
    assert [r[0] for r in policy_rows(pg, db, "wl_ga_42_ro")] == [
        "mart_householdmembers",
        "mart_referrer_codes",
        "mart_screener_data",
    ]


def test_policies_go_only_on_tables_with_row_level_security(built):
    pg, db = built
    with psycopg.connect(pg.dsn(db, OWNER, "owner-pw-test-only"), autocommit=True) as conn:
        conn.execute("CREATE TABLE analytics.lookup (code text)")
    apply(pg, db, plan())
    assert "lookup" not in {r[0] for r in policy_rows(pg, db, "wl_co_1_ro")}


def test_a_removed_tenant_loses_policies_grants_and_role(built):
    pg, db = built
    bigger = plan(tenants=(*[(t.slug, t.white_label_id) for t in plan().tenant_roles], ("ga", 42)))
    apply(pg, db, bigger)
    apply(pg, db, plan(), drop_stale_roles=True)
    assert policy_rows(pg, db, "wl_ga_42_ro") == []
    assert pg.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'wl_ga_42_ro'") == [(0,)]


def test_heroku_mode_fails_naming_a_missing_credential(built):
    pg, db = built
    p = with_mode(plan(tenants=(("zz", 977),)), "heroku")
    with pytest.raises(psycopg.errors.RaiseException, match="wl_zz_977_ro does not exist"):
        apply(pg, db, p)


def test_a_role_with_elevated_attributes_is_refused(built):
    pg, db = built
    pg.execute("CREATE ROLE wl_yy_978_ro LOGIN BYPASSRLS")
    try:
        with pytest.raises(psycopg.errors.RaiseException, match="wl_yy_978_ro has elevated"):
            apply(pg, db, plan(tenants=(("yy", 978),)))
    finally:
        pg.execute("DROP ROLE wl_yy_978_ro")


def test_shared_mode_creates_no_tenant_role(pg_db):
    pg, db = pg_db
    source_tables(pg, db)
    sql = apply(pg, db, with_mode(plan(tenants=(("vv", 979),)), "shared"))
    assert "wl_vv_979_ro" not in sql
    assert pg.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'wl_vv_979_ro'") == [(0,)]


@pytest.mark.skipif(not shutil.which("psql"), reason="psql client not installed")
def test_psql_applies_the_dba_file_with_password_variables(pg_db, tmp_path):
    pg, db = pg_db
    source_tables(pg, db)
    apply(pg, db, plan())  # creates the owner; then the DBA file is applied as the owner
    p = plan(tenants=(("uu", 976),))
    path = tmp_path / "access.sql"
    path.write_text(render_sql(p, owner=OWNER, drop_stale_roles=False))
    res = subprocess.run(
        [
            "psql",
            pg.dsn(db),
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "-q",
            "-v",
            "wl_uu_976_ro_password=from-psql-var",
            "-f",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    with psycopg.connect(pg.dsn(db, "wl_uu_976_ro", "from-psql-var")) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("wl_uu_976_ro",)


@pytest.mark.skipif(not shutil.which("psql"), reason="psql client not installed")
def test_psql_without_a_password_variable_applies_nothing(pg_db, tmp_path):
    pg, db = pg_db
    source_tables(pg, db)
    apply(pg, db, plan(tenants=()))
    path = tmp_path / "access.sql"
    path.write_text(render_sql(plan(tenants=(("tt", 975),)), owner=OWNER, drop_stale_roles=False))
    res = subprocess.run(
        [
            "psql",
            pg.dsn(db),
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "-q",
            "-f",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode != 0
    assert pg.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'wl_tt_975_ro'") == [(0,)]


def test_applied_as_a_createrole_owner_it_sets_what_it_may_and_warns_about_the_rest(built):
    """The DBA path without a superuser: limits set, temp_file_limit and the large-object
    revoke reported as WARNINGs (superuser only), nothing fails."""
    pg, db = built
    pg.execute(f'ALTER DATABASE "{db}" OWNER TO {OWNER}')  # as on Heroku: it owns the database
    pg.execute(f"ALTER ROLE {OWNER} CREATEROLE")
    pg.execute("GRANT EXECUTE ON FUNCTION lo_create(oid) TO PUBLIC", db)
    pg.execute("ALTER ROLE wl_co_1_ro RESET ALL")
    p = plan(tenants=(("co", 1),))
    warnings: list[str] = []
    try:
        with psycopg.connect(pg.dsn(db, OWNER, "owner-pw-test-only")) as conn:
            conn.add_notice_handler(
                lambda d: (
                    warnings.append(d.message_primary or "")
                    if d.severity_nonlocalized == "WARNING"
                    else None
                )
            )
            conn.execute(
                render_sql(
                    p, passwords={"wl_co_1_ro": "pw-wl_co_1_ro-test"}, drop_stale_roles=False
                )
            )
            conn.commit()
    finally:
        pg.execute(f"ALTER ROLE {OWNER} NOCREATEROLE")
    (config,) = pg.execute("SELECT rolconfig FROM pg_roles WHERE rolname = 'wl_co_1_ro'")[0]
    assert sorted(config) == [
        "idle_in_transaction_session_timeout=60000",
        "statement_timeout=120000",
    ]
    assert any("temp_file_limit not applied" in w for w in warnings)
    assert any(w.startswith("large objects: only a superuser") for w in warnings)
