"""The isolation proof on a real PostgreSQL: each invariant in its own test, plus controls that
show the proof fails when isolation is broken."""

from __future__ import annotations

import pytest

from mfb_infra.isolation import TenantLogin, prove_isolation
from tests.integration.access_helpers import (
    OWNER,
    apply,
    build_marts,
    passwords,
    plan,
    source_tables,
)

pytestmark = pytest.mark.postgres

PLAN = plan()
EXPOSED_CHECK = (
    "every relation a tenant can read carries row level security (tables with RLS, "
    "security_invoker views over them)"
)
LIMITS_CHECK = "tenant roles carry the limits and no other setting"


def _global(report, name_start: str):
    found = [c for c in report.checks if c.tenant is None and c.name.startswith(name_start)]
    assert len(found) == 1, [c.name for c in report.checks]
    return found[0]


def _logins() -> list[TenantLogin]:
    pws = passwords(PLAN)
    return [TenantLogin(t.slug, t.white_label_id, t.role, pws[t.role]) for t in PLAN.tenant_roles]


def _prepared(pg_db):
    pg, db = pg_db
    source_tables(pg, db)
    apply(pg, db, PLAN)  # roles, grants, default privileges before any mart exists
    build_marts(pg, db)  # the owner creates the marts afterwards (like dbt)
    apply(pg, db, PLAN)  # policies on the existing marts
    return pg, db


@pytest.fixture
def prepared(pg_db):
    return _prepared(pg_db)


@pytest.fixture
def report(prepared):
    pg, db = prepared
    return prove_isolation(pg.dsn(db), _logins(), owner_role=OWNER)


def _tenant_checks(report, name_start: str):
    found = [c for c in report.checks if c.tenant and c.name.startswith(name_start)]
    assert len(found) == len(PLAN.tenant_roles), [c.name for c in report.checks]
    return found


def test_whole_proof_passes(report):
    assert report.ok, report.format(verbose=True)


def test_marts_are_the_tables_with_row_level_security(report):
    assert report.marts == ["mart_householdmembers", "mart_referrer_codes", "mart_screener_data"]


def test_every_tenant_sees_exactly_the_owners_filtered_rows(report):
    assert all(c.ok for c in _tenant_checks(report, "sees exactly the rows"))


def test_tenants_whose_ids_share_digits_see_no_foreign_row(report):
    assert all(c.ok for c in _tenant_checks(report, "sees no row of another white label"))


def test_every_tenant_sees_a_nonzero_share(report):
    assert all(sum(counts.values()) > 0 for counts in report.rows.values())


def test_policies_are_named_like_the_role_with_an_id_literal(report, prepared):
    pg, db = prepared
    quals = pg.execute(
        "SELECT DISTINCT policyname, qual FROM pg_policies "
        "WHERE schemaname = 'analytics' ORDER BY 1",
        db,
    )
    assert quals == sorted(
        (t.role, f"(white_label_id = {t.white_label_id})") for t in PLAN.tenant_roles
    )


def test_no_policy_targets_public(prepared):
    pg, db = prepared
    assert pg.execute("SELECT count(*) FROM pg_policies WHERE 'public' = ANY(roles)", db) == [(0,)]


def test_roles_outside_the_convention_see_nothing(report):
    check = next(c for c in report.checks if c.name.startswith("roles outside the convention"))
    assert check.ok, check.detail


def test_tenants_cannot_read_public_base_tables(report):
    assert all(c.ok for c in _tenant_checks(report, "cannot read the public base tables"))


def test_tenants_cannot_write(report):
    assert all(c.ok for c in _tenant_checks(report, "cannot INSERT/UPDATE/DELETE/TRUNCATE"))


def test_tenants_cannot_create_objects(report):
    assert all(c.ok for c in _tenant_checks(report, "cannot create objects"))


def test_bypass_attempts_fail(report):
    assert all(c.ok for c in _tenant_checks(report, "bypass attempts fail"))


def test_limits_are_checked_and_hold(prepared):
    pg, db = prepared
    r = prove_isolation(pg.dsn(db), _logins(), owner_role=OWNER, limits=PLAN.limits)
    assert _global(r, LIMITS_CHECK).ok, _global(r, LIMITS_CHECK).detail


def test_tenants_cannot_write_scratch_data(report):
    assert all(c.ok for c in _tenant_checks(report, "cannot write scratch data"))


# ---- controls: the proof detects broken isolation ----------------------------------------------
def test_proof_flags_a_tenant_readable_table_without_rls(prepared):
    pg, db = prepared
    pg.execute("ALTER TABLE analytics.mart_referrer_codes DISABLE ROW LEVEL SECURITY", db)
    r = prove_isolation(pg.dsn(db), _logins(), owner_role=OWNER)
    assert "wl_co_1_ro:mart_referrer_codes" in _global(r, EXPOSED_CHECK).detail


def test_proof_flags_a_readable_view_without_a_white_label_column(prepared):
    pg, db = prepared
    pg.execute(
        "CREATE VIEW analytics.counties AS SELECT county, count(*) AS n "
        "FROM analytics.mart_screener_data GROUP BY county; "
        'GRANT SELECT ON analytics.counties TO "wl_nc_5_ro"',
        db,
    )
    r = prove_isolation(pg.dsn(db), _logins(), owner_role=OWNER)
    assert _global(r, EXPOSED_CHECK).detail == "wl_nc_5_ro:counties"


def test_proof_accepts_a_security_invoker_view_over_rls_tables(prepared):
    pg, db = prepared
    pg.execute(
        "CREATE VIEW analytics.counties WITH (security_invoker = true) AS SELECT county "
        'FROM analytics.mart_screener_data; GRANT SELECT ON analytics.counties TO "wl_nc_5_ro"',
        db,
    )
    r = prove_isolation(pg.dsn(db), _logins(), owner_role=OWNER)
    assert _global(r, EXPOSED_CHECK).ok


def test_proof_flags_a_security_invoker_view_over_a_table_without_rls(prepared):
    pg, db = prepared
    pg.execute(
        "CREATE TABLE analytics_internal.raw AS SELECT 1 AS white_label_id; "
        "CREATE VIEW analytics.raw_v WITH (security_invoker = true) AS SELECT * "
        'FROM analytics_internal.raw; GRANT SELECT ON analytics.raw_v TO "wl_nc_5_ro"',
        db,
    )
    r = prove_isolation(pg.dsn(db), _logins(), owner_role=OWNER)
    assert _global(r, EXPOSED_CHECK).detail == "wl_nc_5_ro:raw_v"


def test_proof_flags_a_tenant_default_privilege(prepared):
    pg, db = prepared
    pg.execute(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA analytics "
        'GRANT SELECT ON TABLES TO "wl_wa_41_ro"',
        db,
    )
    r = prove_isolation(pg.dsn(db), _logins(), owner_role=OWNER)
    assert not r.check("no default privileges give tenants future relations").ok


def test_proof_flags_a_setting_a_tenant_gave_its_own_role(prepared):
    pg, db = prepared
    pg.execute('ALTER ROLE "wl_il_39_ro" SET statement_timeout = 0', db)
    r = prove_isolation(pg.dsn(db), _logins(), owner_role=OWNER, limits=PLAN.limits)
    assert _global(r, LIMITS_CHECK).detail.startswith("wl_il_39_ro:")


def test_proof_flags_a_policy_with_another_tenants_id(prepared):
    pg, db = prepared
    pg.execute(
        'DROP POLICY "wl_co_1_ro" ON analytics.mart_screener_data; '
        'CREATE POLICY "wl_co_1_ro" ON analytics.mart_screener_data FOR SELECT '
        'TO "wl_co_1_ro" USING (white_label_id IN (1, 41))',
        db,
    )
    r = prove_isolation(pg.dsn(db), _logins(), owner_role=OWNER)
    assert [c.tenant for c in r.failed() if c.name == "sees no row of another white label"] == [
        "co"
    ]


def test_proof_flags_a_tenant_that_can_write(prepared):
    pg, db = prepared
    pg.execute('GRANT DELETE ON analytics.mart_screener_data TO "wl_nc_5_ro"', db)
    r = prove_isolation(pg.dsn(db), _logins(), owner_role=OWNER)
    bad = [c for c in r.failed() if c.name.startswith("cannot INSERT")]
    assert [c.tenant for c in bad] == ["nc"] and "DELETE mart_screener_data" in bad[0].detail


def test_proof_flags_a_guc_based_policy(prepared):
    pg, db = prepared
    pg.execute(
        'DROP POLICY "wl_tx_40_ro" ON analytics.mart_screener_data; '
        'CREATE POLICY "wl_tx_40_ro" ON analytics.mart_screener_data FOR SELECT '
        'TO "wl_tx_40_ro" USING (white_label_id = coalesce(nullif(current_setting('
        "'app.white_label_id', true), '')::bigint, 40))",
        db,
    )
    r = prove_isolation(pg.dsn(db), _logins(), owner_role=OWNER)
    assert [c.tenant for c in r.failed() if c.name.startswith("bypass")] == ["tx"]
