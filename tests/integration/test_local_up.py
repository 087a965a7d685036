"""`mfb-infra local up/down` end to end: sample data, dbt build, tenant roles, isolation proof."""

from __future__ import annotations

import json
import stat

import psycopg
import pytest

from mfb_infra import conninfo, local
from mfb_infra.isolation import dsn_with_login

pytestmark = [pytest.mark.postgres, pytest.mark.dbt]

MARTS = [
    "mart_current_benefits",
    "mart_householdmembers",
    "mart_immediate_needs",
    "mart_income",
    "mart_qualified_benefits",
    "mart_referrer_codes",
    "mart_screener_data",
    "mart_screener_expense",
]


@pytest.fixture(scope="module")
def local_up(pg_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("local")
    printed: list[str] = []
    dbname = "mfb_local_up_test"
    result = local.up(
        dsn=pg_server.dsn("postgres"),
        screens=400,
        seed=3,
        dbname=dbname,
        root=root,
        say=printed.append,
    )
    yield result, root, "\n".join(printed)
    pg_server.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def test_local_up_passes_the_isolation_proof(local_up):
    result, _, _ = local_up
    assert result.ok, result.isolation.format(verbose=True)


def test_local_up_builds_every_postgres_mart_with_rls(local_up):
    result, _, _ = local_up
    assert result.isolation.marts == MARTS


def test_local_up_creates_all_eight_production_tenants(local_up):
    result, _, _ = local_up
    assert sorted(result.isolation.rows) == sorted(
        ["co", "co_tax_calculator", "cesn", "nc", "ma", "il", "tx", "wa"]
    )


def test_tenant_rows_add_up_to_the_owners_rows_for_tenant_ids(local_up):
    result, _, _ = local_up
    with psycopg.connect(conninfo.with_dbname(result.admin_dsn, result.dbname)) as conn:
        owner_rows = conn.execute(
            "SELECT count(*) FROM analytics.mart_screener_data "
            "WHERE white_label_id IN (1, 3, 4, 5, 38, 39, 40, 41)"
        ).fetchone()[0]
    tenant_rows = sum(c["mart_screener_data"] for c in result.isolation.rows.values())
    assert tenant_rows == owner_rows > 0


def test_report_prints_marts_rows_proof_and_how_to_connect(local_up):
    _, _, printed = local_up
    for part in (
        "tenant marts (row level security on)",
        "Rows per tenant",
        "Isolation proof:",
        "Connect as a tenant",
        "mfb-infra local down",
    ):
        assert part in printed, part


def test_report_never_prints_a_password(local_up):
    _, root, printed = local_up
    passwords = json.loads((root / "credentials.json").read_text())["roles"].values()
    assert not [p for p in passwords if p in printed]


def test_credentials_file_is_private(local_up):
    _, root, _ = local_up
    assert stat.S_IMODE((root / "credentials.json").stat().st_mode) == 0o600


def test_dbt_runs_as_the_owner_role_not_a_superuser(local_up):
    result, _, _ = local_up
    with psycopg.connect(conninfo.with_dbname(result.admin_dsn, result.dbname)) as conn:
        owner, superuser = conn.execute(
            "SELECT c.relowner::regrole::text, r.rolsuper FROM pg_class c JOIN pg_roles r "
            "ON r.oid = c.relowner WHERE c.oid = 'analytics.mart_screener_data'::regclass"
        ).fetchone()
    assert (owner, superuser) == (local.OWNER_ROLE, False)


def test_tenant_can_log_in_with_the_stored_password(local_up):
    result, root, _ = local_up
    pw = json.loads((root / "credentials.json").read_text())["roles"]["wl_nc_5_ro"]
    dsn = dsn_with_login(conninfo.with_dbname(result.admin_dsn, result.dbname), "wl_nc_5_ro", pw)
    with psycopg.connect(dsn) as conn:
        assert conn.execute(
            "SELECT DISTINCT white_label_id FROM analytics.mart_screener_data"
        ).fetchall() == [(5,)]


def test_credentials_are_reused_not_regenerated(tmp_path):
    first = local.load_credentials(tmp_path / "c.json", ["a", "b"])
    again = local.load_credentials(tmp_path / "c.json", ["a", "b", "c"])
    assert {k: again[k] for k in first} == first and again["c"]


def test_dsn_of_a_non_superuser_is_refused(pg_server, tmp_path):
    pg_server.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
        "'mfb_not_super') THEN CREATE ROLE mfb_not_super LOGIN PASSWORD 'x'; "
        "END IF; END $$"
    )
    with pytest.raises(local.LocalError, match="superuser"):
        local.up(
            dsn=pg_server.dsn("postgres", "mfb_not_super", "x"),
            screens=10,
            root=tmp_path,
            say=lambda _: None,
        )


def test_throwaway_server_is_reused_while_running_and_stopped_by_down(tmp_path):
    server, reused = local.ensure_server(tmp_path)
    try:
        again, reused_again = local.ensure_server(tmp_path)
        assert (reused, reused_again, again.port) == (False, True, server.port)
    finally:
        assert local.down(root=tmp_path, say=lambda _: None) is True
    assert local._server_running(tmp_path / "pg" / "data") is False


def test_down_with_purge_removes_data_and_credentials(tmp_path):
    local.ensure_server(tmp_path)
    local.load_credentials(tmp_path / local.CREDENTIALS_FILE, ["x"])
    local.down(root=tmp_path, purge=True, say=lambda _: None)
    assert not (tmp_path / "pg").exists() and not (tmp_path / local.CREDENTIALS_FILE).exists()


def test_redacted_dsn_hides_both_password_forms():
    from mfb_infra.local import _redacted

    shown = _redacted(
        "postgresql://admin:s3cret@db.example.org:5432/mfb?password=s3cret&sslmode=require"
    )
    assert "s3cret" not in shown and "sslmode=require" in shown and "db.example.org" in shown
