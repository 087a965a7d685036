"""The pure access model: plan contents, fail-closed credentials, SQL rendering rules."""

from __future__ import annotations

import re

import pytest

from components.postgres.access import (
    OWNER,
    AccessPlan,
    MissingTenantCredential,
    TenantCredentials,
    TenantRole,
    exact_grant_sql,
    plan_for,
    render_sql,
    require_credentials,
    tenant_access_sql,
)
from mfb_infra.sql import load_stack_config, main


def _plan(mode: str = "sql", tenants=(("co", 1), ("nc", 5))) -> AccessPlan:
    return AccessPlan(
        stack="test",
        database="db",
        schema="analytics",
        internal_schema="analytics_internal",
        mode=mode,  # type: ignore[arg-type]
        tenants=tuple(TenantRole(s, i, f"wl_{s}_{i}_ro") for s, i in tenants),
    )


# ---- the model ---------------------------------------------------------------------------------
def test_plan_for_production_has_all_eight_tenants_sorted_by_id():
    plan = plan_for(load_stack_config("production"))
    assert [t.white_label_id for t in plan.tenant_roles] == [1, 3, 4, 5, 38, 39, 40, 41]


def test_shared_plan_has_no_tenant_roles():
    assert _plan("shared").tenant_roles == ()


def test_role_must_follow_the_convention_for_its_id():
    with pytest.raises(ValueError, match="wl_<slug>_<white_label_id>_ro"):
        TenantRole("co", 1, "wl_co_2_ro")


def test_owner_rights_are_read_source_and_create_in_own_schemas():
    grants = {(g.object_type, g.schema, g.privileges) for g in _plan().owner_grants()}
    assert grants == {
        ("schema", "public", ("USAGE",)),
        ("table", "public", ("SELECT",)),
        ("schema", "analytics", ("CREATE", "USAGE")),
        ("schema", "analytics_internal", ("CREATE", "USAGE")),
    }


def test_owner_grants_are_never_rendered_as_revoke_then_grant():
    owner_grant = _plan().owner_grants()[1]
    assert owner_grant.role == OWNER
    with pytest.raises(ValueError, match="owner"):
        exact_grant_sql(owner_grant)


def test_rendered_sql_never_revokes_from_the_owner():
    sql = render_sql(_plan())
    assert not re.search(r"REVOKE [^;]* FROM CURRENT_USER", sql)


# ---- fail closed -------------------------------------------------------------------------------
def test_missing_tenant_credential_names_the_tenant():
    creds = TenantCredentials({"co": "cred-co"})
    with pytest.raises(MissingTenantCredential) as info:
        creds["nc"]
    assert "'nc'" in str(info.value) and "refusing to fall back" in str(info.value)


def test_get_with_a_fallback_is_refused():
    creds = TenantCredentials({"co": "cred-co"})
    with pytest.raises(TypeError, match="never falls back"):
        creds.get("nc", "owner-credential")


def test_require_credentials_names_every_tenant_without_one():
    with pytest.raises(MissingTenantCredential) as info:
        require_credentials(["co", "nc", "tx"], {"co": "x", "nc": None})
    assert "nc, tx" in str(info.value)


def test_render_with_passwords_refuses_a_tenant_without_one():
    with pytest.raises(MissingTenantCredential, match="'nc'"):
        render_sql(_plan(), passwords={"wl_co_1_ro": "pw"})


# ---- rendering -----------------------------------------------------------------------------------
def test_sql_mode_without_passwords_uses_psql_variables():
    sql = render_sql(_plan())
    assert "ALTER ROLE \"wl_co_1_ro\" WITH LOGIN PASSWORD :'wl_co_1_ro_password';" in sql


def test_embedded_passwords_are_quoted_literals():
    sql = render_sql(_plan(), passwords={"wl_co_1_ro": "a'b", "wl_nc_5_ro": "c"})
    assert "PASSWORD 'a''b';" in sql


def test_heroku_mode_requires_roles_instead_of_creating_them():
    sql = render_sql(_plan("heroku"), data_app="cobenefits-api")
    assert "CREATE ROLE" not in sql
    assert "heroku pg:credentials:create -a cobenefits-api" in sql


def test_shared_mode_sql_carries_the_warning_and_no_tenant_grants():
    sql = render_sql(_plan("shared"))
    assert "WARNING: shared mode" in sql and 'TO "wl_' not in sql


def test_policy_sql_uses_the_role_name_and_an_id_literal():
    sql = tenant_access_sql("wl_tx_40_ro", 40, "analytics")
    assert "'CREATE POLICY %I ON %s AS PERMISSIVE FOR SELECT TO %I USING (%I = %s)'" in sql
    assert "'wl_tx_40_ro', rel.tbl, 'wl_tx_40_ro', 'white_label_id', 40" in sql


def test_policy_sql_rejects_non_tenant_roles():
    with pytest.raises(ValueError, match="not a tenant role"):
        tenant_access_sql("postgres", 1, "analytics")


def test_cli_writes_the_file(tmp_path, capsys):
    out = tmp_path / "access.sql"
    assert main(["--stack", "production", "--out", str(out)]) == 0
    assert out.read_text().startswith("-- Tenant access for stack 'production'")


def test_cli_names_an_unknown_stack(capsys):
    assert main(["--stack", "nope"]) == 2
    assert "Pulumi.nope.yaml" in capsys.readouterr().err
