"""Attacks with one tenant's credential, on a real PostgreSQL, each blocked by the access plan —
and each with a control: the same attack with that one defence removed succeeds, so the test
would fail if the defence were missing.

The database is prepared like `mfb-infra local up`: the plan applied (as the superuser), marts
built by the owner, the plan applied again. (dbt-side attacks: test_dbt_tenant_guards.py.)
"""

from __future__ import annotations

import dataclasses
import time

import psycopg
import pytest

from components.postgres.access import TenantLimits, tenant_access_sql
from tests.integration.access_helpers import (
    OWNER,
    OWNER_PW,
    apply,
    build_marts,
    passwords,
    plan,
    source_tables,
)

pytestmark = pytest.mark.postgres

LIMITS = TenantLimits(
    connection_limit=3,
    statement_timeout_ms=1_000,
    idle_in_transaction_timeout_ms=1_000,
    temp_file_limit_mb=1,
)
PLAN = dataclasses.replace(plan(), limits=LIMITS)
TENANT = "wl_nc_5_ro"
OTHER_IDS = "(1, 3, 4, 38, 39, 40, 41, 2, 400)"


@pytest.fixture
def db(pg_db):
    pg, name = pg_db
    source_tables(pg, name)
    apply(pg, name, PLAN)
    build_marts(pg, name)
    apply(pg, name, PLAN)
    return pg, name


def tenant(pg, name, role: str = TENANT, **kw):
    return psycopg.connect(
        pg.dsn(name, role, passwords(PLAN)[role]), autocommit=True, connect_timeout=10, **kw
    )


def owner(pg, name):
    return psycopg.connect(pg.dsn(name, OWNER, OWNER_PW), autocommit=True)


def read(pg, name, relation: str, role: str = TENANT):
    """Rows of `relation` as the tenant, or the error it got."""
    with tenant(pg, name, role) as conn:
        try:
            return conn.execute(f"SELECT * FROM {relation}").fetchall()
        except psycopg.errors.InsufficientPrivilege as e:
            return e


def remove_defence_old_default_privileges(pg, name) -> None:
    """The previous plan: tenants got SELECT on whatever the owner creates in the schema."""
    roles = ", ".join(f'"{t.role}"' for t in PLAN.tenant_roles)
    pg.execute(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA analytics "
        f"GRANT SELECT ON TABLES TO {roles}",
        name,
    )


# ---- anything new in the tenant schema ---------------------------------------------------------
NEW_RELATIONS = {
    "a hand-made table": (
        "CREATE TABLE analytics.hand_made AS SELECT id, white_label_id FROM "
        "analytics.mart_screener_data",
        "analytics.hand_made",
    ),
    "a definer view without white_label_id": (
        "CREATE VIEW analytics.by_county AS SELECT county, count(*) AS n "
        "FROM analytics.mart_screener_data GROUP BY county",
        "analytics.by_county",
    ),
    "a partition of a partitioned mart": (
        "CREATE TABLE analytics.mart_parted (id bigint, white_label_id bigint) "
        "PARTITION BY LIST (white_label_id); "
        "CREATE TABLE analytics.mart_parted_other PARTITION OF analytics.mart_parted "
        "DEFAULT; INSERT INTO analytics.mart_parted SELECT id, white_label_id "
        "FROM analytics.mart_screener_data WHERE white_label_id IS NOT NULL",
        "analytics.mart_parted_other",
    ),
}


@pytest.mark.parametrize("what", NEW_RELATIONS)
def test_a_new_relation_is_not_readable_by_tenants(db, what):
    pg, name = db
    create, relation = NEW_RELATIONS[what]
    with owner(pg, name) as conn:
        conn.execute(create)
    assert isinstance(read(pg, name, relation), psycopg.errors.InsufficientPrivilege)


@pytest.mark.parametrize("what", NEW_RELATIONS)
def test_control_with_the_old_default_privileges_a_new_relation_leaks(db, what):
    pg, name = db
    remove_defence_old_default_privileges(pg, name)
    create, relation = NEW_RELATIONS[what]
    with owner(pg, name) as conn:
        conn.execute(create)
    rows = read(pg, name, relation)
    assert not isinstance(rows, Exception) and len(rows) > 0


def test_reapplying_the_plan_grants_only_what_carries_rls(db):
    """A partitioned mart with RLS and a security_invoker view over it become readable; the
    partition and a definer view do not, and the tenant still sees only its rows."""
    pg, name = db
    with owner(pg, name) as conn:
        conn.execute(NEW_RELATIONS["a partition of a partitioned mart"][0])
        conn.execute(NEW_RELATIONS["a definer view without white_label_id"][0])
        conn.execute("ALTER TABLE analytics.mart_parted ENABLE ROW LEVEL SECURITY")
        conn.execute(
            "CREATE VIEW analytics.parted_ids WITH (security_invoker = true) AS "
            "SELECT white_label_id FROM analytics.mart_parted"
        )
    apply(pg, name, PLAN)
    assert {r[0] for r in read(pg, name, "analytics.parted_ids")} == {5}
    assert {r[1] for r in read(pg, name, "analytics.mart_parted")} == {5}
    assert isinstance(
        read(pg, name, "analytics.mart_parted_other"), psycopg.errors.InsufficientPrivilege
    )
    assert isinstance(read(pg, name, "analytics.by_county"), psycopg.errors.InsufficientPrivilege)


def test_reapplying_the_plan_revokes_a_leftover_blanket_grant(db):
    """An existing database from the previous plan (SELECT on all tables) is fixed by `up`."""
    pg, name = db
    with owner(pg, name) as conn:
        conn.execute(NEW_RELATIONS["a hand-made table"][0])
    pg.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO "{TENANT}"', name)
    remove_defence_old_default_privileges(pg, name)
    assert not isinstance(read(pg, name, "analytics.hand_made"), Exception)  # the leak
    apply(pg, name, PLAN)
    assert isinstance(read(pg, name, "analytics.hand_made"), psycopg.errors.InsufficientPrivilege)
    assert pg.execute(
        "SELECT count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) g "
        f"WHERE g.grantee = '{TENANT}'::regrole",
        name,
    ) == [(0,)]


def test_a_rebuild_committed_before_its_policies_is_not_readable(db):
    """The `transaction: false` window: dbt swapped in a new table and committed, RLS comes
    later. Without default privileges the tenant cannot read the new table at all."""
    pg, name = db
    with owner(pg, name) as conn, conn.transaction():
        conn.execute(
            "CREATE TABLE analytics.mart_referrer_codes__dbt_tmp AS "
            "TABLE analytics.mart_referrer_codes"
        )
        conn.execute("DROP TABLE analytics.mart_referrer_codes")
        conn.execute(
            "ALTER TABLE analytics.mart_referrer_codes__dbt_tmp RENAME TO mart_referrer_codes"
        )
    assert isinstance(
        read(pg, name, "analytics.mart_referrer_codes"), psycopg.errors.InsufficientPrivilege
    )


def test_control_with_default_privileges_the_window_shows_every_white_label(db):
    pg, name = db
    remove_defence_old_default_privileges(pg, name)
    with owner(pg, name) as conn, conn.transaction():
        conn.execute(
            "CREATE TABLE analytics.mart_referrer_codes__dbt_tmp AS "
            "TABLE analytics.mart_referrer_codes"
        )
        conn.execute("DROP TABLE analytics.mart_referrer_codes")
        conn.execute(
            "ALTER TABLE analytics.mart_referrer_codes__dbt_tmp RENAME TO mart_referrer_codes"
        )
    ids = {r[2] for r in read(pg, name, "analytics.mart_referrer_codes")}
    assert len(ids) > 1


# ---- one tenant stalling the database ----------------------------------------------------------
def _idle_in_transaction(pg, name):
    conn = tenant(pg, name)
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM analytics.mart_screener_data").fetchone()
    time.sleep(2.5)  # idle, holding its lock on the mart
    try:
        conn.execute("SELECT 1").fetchone()
        return conn, None
    except psycopg.Error as e:  # IdleInTransactionSessionTimeout (25P03), or the closed socket
        return conn, e


def test_a_tenant_idle_in_a_transaction_is_ended(db):
    pg, name = db
    conn, err = _idle_in_transaction(pg, name)
    conn.close()
    assert err is not None and "idle-in-transaction timeout" in str(err)


def test_control_without_the_idle_timeout_the_session_keeps_its_lock(db):
    pg, name = db
    pg.execute(f'ALTER ROLE "{TENANT}" RESET idle_in_transaction_session_timeout', name)
    conn, err = _idle_in_transaction(pg, name)
    conn.close()
    assert err is None


def _flood(pg, name, n: int) -> tuple[int, str]:
    conns, refused = [], ""
    try:
        for _ in range(n):
            try:
                conns.append(tenant(pg, name))
            except psycopg.OperationalError as e:
                refused = str(e)
                break
        with owner(pg, name) as dbt:  # dbt and the other tenants still get in
            dbt.execute("SELECT 1")
        with tenant(pg, name, "wl_co_1_ro") as other:
            other.execute("SELECT 1")
        return len(conns), refused
    finally:
        for c in conns:
            c.close()


def test_a_tenant_cannot_open_more_connections_than_its_limit(db):
    pg, name = db
    opened, refused = _flood(pg, name, 6)
    assert opened == LIMITS.connection_limit and "too many connections for role" in refused


def test_control_without_the_connection_limit_the_flood_gets_through(db):
    pg, name = db
    pg.execute(f'ALTER ROLE "{TENANT}" CONNECTION LIMIT -1', name)
    assert _flood(pg, name, 6) == (6, "")


def _long_query(pg, name):
    with tenant(pg, name) as conn:
        try:
            conn.execute("SELECT pg_sleep(2)")
            return None
        except psycopg.errors.QueryCanceled as e:
            return e


def test_a_long_tenant_query_is_cancelled(db):
    pg, name = db
    assert "statement timeout" in str(_long_query(pg, name))


def test_control_without_the_statement_timeout_the_query_runs(db):
    pg, name = db
    pg.execute(f'ALTER ROLE "{TENANT}" RESET statement_timeout', name)
    assert _long_query(pg, name) is None


def test_statement_timeout_is_a_default_a_session_may_lift_temp_file_limit_is_not(db):
    """Honest limits: statement_timeout and idle_in_transaction_session_timeout are
    user-settable (PGC_USERSET), so a tenant's own session can lift them; temp_file_limit is
    superuser-only (PGC_SUSET) and holds."""
    pg, name = db
    with tenant(pg, name) as conn:
        conn.execute("SET statement_timeout = 0")
        conn.execute("SELECT pg_sleep(1.5)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET temp_file_limit = -1")


SPILL = (
    "SET work_mem = '64kB'; SET statement_timeout = 0; "
    "SELECT count(*) FROM (SELECT g, md5(g::text) FROM generate_series(1, 200000) g "
    "ORDER BY 2) s"
)


def _spill(pg, name):
    with tenant(pg, name) as conn:
        try:
            conn.execute(SPILL)
            return None
        except psycopg.errors.ConfigurationLimitExceeded as e:
            return e


def test_a_tenant_query_cannot_fill_the_disk_with_temp_files(db):
    pg, name = db
    assert "temp_file_limit" in str(_spill(pg, name))


def test_control_without_temp_file_limit_the_query_spills_freely(db):
    pg, name = db
    pg.execute(f'ALTER ROLE "{TENANT}" RESET temp_file_limit', name)
    assert _spill(pg, name) is None


# ---- a "read-only" tenant writing -------------------------------------------------------------
def _scratch(pg, name, sql: str):
    with tenant(pg, name) as conn:
        try:
            conn.execute(sql)
            return None
        except psycopg.errors.InsufficientPrivilege as e:
            return e


def test_a_tenant_cannot_create_temporary_tables(db):
    pg, name = db
    assert _scratch(pg, name, "CREATE TEMP TABLE loot AS SELECT 1") is not None


def test_control_with_temporary_for_public_a_tenant_creates_temp_tables(db):
    pg, name = db
    pg.execute(f'GRANT TEMPORARY ON DATABASE "{name}" TO PUBLIC', name)
    assert _scratch(pg, name, "CREATE TEMP TABLE loot AS SELECT 1") is None


def test_the_owner_keeps_temporary_tables(db):
    pg, name = db
    with owner(pg, name) as conn:
        conn.execute("CREATE TEMP TABLE scope AS SELECT 1 AS screen_id")


@pytest.mark.parametrize("sql", ["SELECT lo_create(0)", "SELECT lo_from_bytea(0, 'loot')"])
def test_a_tenant_cannot_create_large_objects(db, sql):
    pg, name = db
    assert _scratch(pg, name, sql) is not None


def test_control_with_the_default_function_privileges_a_tenant_creates_large_objects(db):
    pg, name = db
    pg.execute("GRANT EXECUTE ON FUNCTION lo_create(oid) TO PUBLIC", name)
    assert _scratch(pg, name, "SELECT lo_create(0)") is None


# ---- a tenant changing its own role ------------------------------------------------------------
def test_a_tenant_cannot_raise_its_own_connection_limit(db):
    pg, name = db
    assert _scratch(pg, name, f'ALTER ROLE "{TENANT}" CONNECTION LIMIT -1') is not None


def test_settings_a_tenant_gives_its_own_role_are_reset_by_the_next_apply(db):
    pg, name = db
    assert _scratch(pg, name, f'ALTER ROLE "{TENANT}" SET statement_timeout = 0') is None
    assert _scratch(pg, name, f"ALTER ROLE \"{TENANT}\" SET work_mem = '1GB'") is None
    apply(pg, name, PLAN)
    (config,) = pg.execute(f"SELECT rolconfig FROM pg_roles WHERE rolname = '{TENANT}'")[0]
    assert sorted(config) == sorted(
        [
            "statement_timeout=1000",
            "idle_in_transaction_session_timeout=1000",
            "temp_file_limit=1024",
        ]
    )


def test_control_without_the_reset_a_tenants_own_setting_survives(db, monkeypatch):
    import components.postgres.access as access

    pg, name = db
    _scratch(pg, name, f"ALTER ROLE \"{TENANT}\" SET work_mem = '1GB'")
    monkeypatch.setattr(access, "tenant_limits_sql", lambda role, limits: "")
    apply(pg, name, PLAN)
    (config,) = pg.execute(f"SELECT rolconfig FROM pg_roles WHERE rolname = '{TENANT}'")[0]
    assert "work_mem=1GB" in config


def test_a_password_a_tenant_set_itself_is_replaced_by_the_next_apply(db):
    """PostgreSQL lets every role change its own password (Metabase is then locked out of that
    tenant); the SQL path sets the plan's password again."""
    pg, name = db
    assert _scratch(pg, name, f"ALTER ROLE \"{TENANT}\" PASSWORD 'mine-now'") is None
    apply(pg, name, PLAN)
    with tenant(pg, name) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (TENANT,)


# ---- public schema -------------------------------------------------------------------------
PLANT = (
    "CREATE FUNCTION public.mfb_planted(varchar, varchar) RETURNS boolean LANGUAGE sql "
    "AS 'SELECT true'"
)


def test_a_tenant_cannot_plant_objects_in_public_even_where_it_was_writable(db):
    """PostgreSQL <= 14 let PUBLIC create in `public`; applying the plan takes that away."""
    pg, name = db
    pg.execute("GRANT CREATE ON SCHEMA public TO PUBLIC", name)
    apply(pg, name, PLAN)
    assert _scratch(pg, name, PLANT) is not None


def test_control_with_public_writable_a_tenant_plants_a_function(db):
    pg, name = db
    pg.execute("GRANT CREATE ON SCHEMA public TO PUBLIC", name)
    assert _scratch(pg, name, PLANT) is None


def test_tenant_access_sql_is_what_the_plan_applies():
    """One text for TenantPolicies, `mfb-infra sql` and the local database."""
    from components.postgres.access import render_sql

    t = PLAN.tenant_roles[0]
    assert tenant_access_sql(t.role, t.white_label_id, "analytics") in render_sql(
        PLAN, owner=OWNER, passwords=passwords(PLAN)
    )


def test_other_white_labels_stay_invisible_through_every_granted_relation(db):
    pg, name = db
    apply(pg, name, PLAN)
    with tenant(pg, name) as conn:
        for (rel,) in conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'analytics' "
            "AND has_table_privilege(c.oid, 'SELECT')"
        ).fetchall():
            n = conn.execute(
                f"SELECT count(*) FROM {rel} WHERE white_label_id IN {OTHER_IDS}"
            ).fetchone()[0]
            assert n == 0, rel
