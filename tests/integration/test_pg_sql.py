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
