"""TenantPoliciesProvider methods, driven as the engine would, against a real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from components.postgres.policies import TenantPoliciesProvider
from tests.integration.access_helpers import (
    OWNER,
    OWNER_PW,
    apply,
    build_marts,
    plan,
    policy_rows,
    source_tables,
)

pytestmark = pytest.mark.postgres

ROLE = "wl_tx_40_ro"
LIMITS = {
    "connection_limit": 10,
    "statement_timeout_ms": 120000,
    "idle_in_transaction_timeout_ms": 60000,
    "temp_file_limit_mb": 256,
}


@pytest.fixture
def db_with_marts(pg_db):
    pg, db = pg_db
    source_tables(pg, db)
    apply(pg, db, plan())
    build_marts(pg, db)  # no policies yet: apply() ran before the marts existed
    return pg, db


def _props(pg, db, **over) -> dict:
    props = {
        "role": ROLE,
        "white_label_id": 40,
        "schema": "analytics",
        "column": "white_label_id",
        "host": "127.0.0.1",
        "port": pg.port,
        "dbname": db,
        "sslmode": "disable",
        "user": OWNER,
        "password": OWNER_PW,
        "limits": LIMITS,
        "exposed": [],
        "tables": None,
    }
    props.update(over)
    return props


def test_create_puts_the_policy_on_every_rls_mart(db_with_marts):
    pg, db = db_with_marts
    result = TenantPoliciesProvider().create(_props(pg, db))
    assert result.outs["tables"] == [
        "mart_householdmembers",
        "mart_referrer_codes",
        "mart_screener_data",
    ]
    assert [r[1:] for r in policy_rows(pg, db, ROLE)] == [
        ("PERMISSIVE", [ROLE], "SELECT", "(white_label_id = 40)")
    ] * 3


def test_created_policies_let_the_tenant_see_its_rows(db_with_marts):
    pg, db = db_with_marts
    pg.execute(f"ALTER ROLE {ROLE} PASSWORD 'pg-sql-test'")
    TenantPoliciesProvider().create(_props(pg, db))
    with psycopg.connect(pg.dsn(db, ROLE, "pg-sql-test")) as conn:
        ids = conn.execute(
            "SELECT DISTINCT white_label_id FROM analytics.mart_screener_data"
        ).fetchall()
    assert ids == [(40,)]


def test_create_skips_tables_without_row_level_security(db_with_marts):
    pg, db = db_with_marts
    with psycopg.connect(pg.dsn(db, OWNER, OWNER_PW), autocommit=True) as conn:
        conn.execute("CREATE TABLE analytics.plain (white_label_id bigint)")
    result = TenantPoliciesProvider().create(_props(pg, db))
    assert "plain" not in result.outs["tables"]


def test_create_is_repeatable(db_with_marts):
    pg, db = db_with_marts
    provider = TenantPoliciesProvider()
    provider.create(_props(pg, db))
    provider.create(_props(pg, db))
    assert len(policy_rows(pg, db, ROLE)) == 3


def test_create_for_a_missing_role_names_it(db_with_marts):
    pg, db = db_with_marts
    with pytest.raises(RuntimeError, match="wl_zz_990_ro' does not exist"):
        TenantPoliciesProvider().create(_props(pg, db, role="wl_zz_990_ro", white_label_id=990))


def test_read_reports_the_tables_carrying_the_policy(db_with_marts):
    pg, db = db_with_marts
    provider = TenantPoliciesProvider()
    created = provider.create(_props(pg, db))
    pg.execute(f'DROP POLICY "{ROLE}" ON analytics.mart_referrer_codes', db)
    read = provider.read(created.id, created.outs)
    assert read.outs["tables"] == ["mart_householdmembers", "mart_screener_data"]


def test_read_of_a_dropped_role_reports_it_gone(db_with_marts):
    pg, db = db_with_marts
    props = _props(pg, db, role="wl_zz_991_ro", white_label_id=991)
    assert TenantPoliciesProvider().read("analytics/wl_zz_991_ro", props).id is None


def test_update_after_a_password_change_reapplies(db_with_marts):
    pg, db = db_with_marts
    provider = TenantPoliciesProvider()
    old = provider.create(_props(pg, db)).outs
    pg.execute(f"ALTER ROLE {OWNER} PASSWORD 'rotated-owner-pw'")
    try:
        new = _props(pg, db, password="rotated-owner-pw")
        assert provider.diff("analytics/" + ROLE, old, new).changes
        assert provider.update("analytics/" + ROLE, old, new).outs["tables"] == old["tables"]
    finally:
        pg.execute(f"ALTER ROLE {OWNER} PASSWORD '{OWNER_PW}'")


def test_delete_drops_the_policies(db_with_marts):
    pg, db = db_with_marts
    provider = TenantPoliciesProvider()
    created = provider.create(_props(pg, db))
    provider.delete(created.id, created.outs)
    assert policy_rows(pg, db, ROLE) == []


def test_delete_leaves_other_tenants_policies(db_with_marts):
    pg, db = db_with_marts
    provider = TenantPoliciesProvider()
    provider.create(_props(pg, db, role="wl_wa_41_ro", white_label_id=41))
    created = provider.create(_props(pg, db))
    provider.delete(created.id, created.outs)
    assert len(policy_rows(pg, db, "wl_wa_41_ro")) == 3


def test_diff_replaces_when_the_role_changes():
    provider = TenantPoliciesProvider()
    diff = provider.diff(
        "x", {"role": ROLE, "white_label_id": 40}, {"role": "wl_tx_41_ro", "white_label_id": 41}
    )
    assert set(diff.replaces) == {"role", "white_label_id"}


def test_diff_sees_no_change_for_equal_inputs():
    provider = TenantPoliciesProvider()
    props = {"role": ROLE, "white_label_id": 40, "schema": "analytics", "password": "x"}
    assert provider.diff("x", props, dict(props)).changes is False


def test_check_rejects_a_role_whose_name_disagrees_with_the_id():
    result = TenantPoliciesProvider().check(
        {},
        {
            "role": ROLE,
            "white_label_id": 41,
            "schema": "analytics",
            "column": "c",
            "dbname": "d",
            "port": 5432,
        },
    )
    assert [f.property for f in result.failures] == ["white_label_id"]


def test_check_rejects_a_non_tenant_role():
    result = TenantPoliciesProvider().check(
        {},
        {
            "role": "mfb_dbt",
            "white_label_id": 1,
            "schema": "analytics",
            "column": "c",
            "dbname": "d",
            "port": 5432,
        },
    )
    assert [f.property for f in result.failures] == ["role"]


def test_connection_failure_names_the_config_keys_not_the_secrets(pg_server):
    from components.postgres.policies import _connect

    props = {
        "host": "127.0.0.1",
        "port": pg_server.port,
        "dbname": "postgres",
        "user": "wl_secret_user_9_ro",
        "password": "wrong-secret",
        "sslmode": "disable",
    }
    with pytest.raises(RuntimeError) as info:
        _connect(props)
    text = str(info.value)
    assert "databaseAdminPassword" in text
    assert "wl_secret_user_9_ro" not in text and "127.0.0.1" not in text


# ---- SELECT per relation, limits, drift (issue 11) ------------------------------------------
def _tenant_can_read(pg, db, relation: str, role: str = ROLE) -> bool:
    return pg.execute(f"SELECT has_table_privilege('{role}', '{relation}', 'SELECT')", db) == [
        (True,)
    ]


def test_create_grants_select_on_rls_marts_and_nothing_else(db_with_marts):
    pg, db = db_with_marts
    with psycopg.connect(pg.dsn(db, OWNER, OWNER_PW), autocommit=True) as conn:
        conn.execute("CREATE TABLE analytics.plain (white_label_id bigint)")
        conn.execute("CREATE VIEW analytics.definer AS SELECT * FROM analytics.mart_screener_data")
    TenantPoliciesProvider().create(_props(pg, db))
    assert _tenant_can_read(pg, db, "analytics.mart_screener_data")
    assert not _tenant_can_read(pg, db, "analytics.plain")
    assert not _tenant_can_read(pg, db, "analytics.definer")


def test_create_revokes_a_leftover_blanket_grant(db_with_marts):
    pg, db = db_with_marts
    with psycopg.connect(pg.dsn(db, OWNER, OWNER_PW), autocommit=True) as conn:
        conn.execute("CREATE TABLE analytics.plain (white_label_id bigint)")
    pg.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO {ROLE}", db)
    TenantPoliciesProvider().create(_props(pg, db))
    assert not _tenant_can_read(pg, db, "analytics.plain")


def test_without_createrole_the_limits_are_reported_not_applied(db_with_marts):
    """Heroku's owner credential has no CREATEROLE: the limits cannot be set on a credential
    role, and the outputs say so instead of failing the update."""
    pg, db = db_with_marts
    pg.execute(f"ALTER ROLE {ROLE} RESET ALL; ALTER ROLE {ROLE} CONNECTION LIMIT -1")
    outs = TenantPoliciesProvider().create(_props(pg, db)).outs
    assert outs["role_limits"]["connection_limit"] == -1
    assert any("not applied" in w for w in outs["warnings"])


def test_with_createrole_the_limits_apply_except_temp_file_limit(db_with_marts):
    pg, db = db_with_marts
    pg.execute(f"ALTER ROLE {OWNER} CREATEROLE")
    try:
        outs = (
            TenantPoliciesProvider()
            .create(_props(pg, db, limits={**LIMITS, "connection_limit": 4}))
            .outs
        )
    finally:
        pg.execute(f"ALTER ROLE {OWNER} NOCREATEROLE")
    assert outs["role_limits"]["connection_limit"] == 4
    assert outs["role_limits"]["statement_timeout_ms"] == LIMITS["statement_timeout_ms"]
    assert [w for w in outs["warnings"] if "temp_file_limit" in w]


def test_refresh_sees_a_setting_the_tenant_gave_itself_and_update_resets_it(db_with_marts):
    pg, db = db_with_marts
    pg.execute(f"ALTER ROLE {OWNER} CREATEROLE")
    try:
        provider = TenantPoliciesProvider()
        created = provider.create(_props(pg, db, limits=LIMITS))
        pg.execute(f"ALTER ROLE {ROLE} PASSWORD 'pg-sql-test'")
        with psycopg.connect(pg.dsn(db, ROLE, "pg-sql-test"), autocommit=True) as conn:
            conn.execute(f"ALTER ROLE {ROLE} SET statement_timeout = 0")  # allowed to itself
        read = provider.read(created.id, created.outs)
        news = _props(pg, db, limits=LIMITS)
        assert provider.diff(created.id, read.outs, news).changes
        outs = provider.update(created.id, read.outs, news).outs
        assert outs["role_limits"]["statement_timeout_ms"] == LIMITS["statement_timeout_ms"]
        assert (
            provider.diff(created.id, provider.read(created.id, outs).outs, news).changes is False
        )
    finally:
        pg.execute(f"ALTER ROLE {OWNER} NOCREATEROLE")


def test_refresh_sees_a_relation_the_tenant_can_read_without_rls(db_with_marts):
    pg, db = db_with_marts
    provider = TenantPoliciesProvider()
    created = provider.create(_props(pg, db))
    with psycopg.connect(pg.dsn(db, OWNER, OWNER_PW), autocommit=True) as conn:
        conn.execute("CREATE TABLE analytics.plain (white_label_id bigint)")
        conn.execute(f"GRANT SELECT ON analytics.plain TO {ROLE}")
    read = provider.read(created.id, created.outs)
    assert read.outs["exposed"] == ["plain"]
    assert provider.diff(created.id, read.outs, _props(pg, db)).changes
    provider.update(created.id, read.outs, _props(pg, db))
    assert not _tenant_can_read(pg, db, "analytics.plain")


def test_check_rejects_limits_with_a_zero():
    result = TenantPoliciesProvider().check(
        {},
        {
            "role": ROLE,
            "white_label_id": 40,
            "schema": "analytics",
            "column": "c",
            "dbname": "d",
            "port": 5432,
            "limits": {**LIMITS, "statement_timeout_ms": 0},
        },
    )
    assert [f.property for f in result.failures] == ["limits"]
