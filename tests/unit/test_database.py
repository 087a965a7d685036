"""AnalyticsDatabase under Pulumi's mocks: roles, grants, default privileges, policies, modes."""

from __future__ import annotations

import json
import re

import pytest

from components.config import ConfigError
from components.postgres.access import OWNER, plan_for, render_sql
from mfb_infra.program import PLACEHOLDER_PREFIX, ProgramRun, is_secret, run_program, unwrap
from mfb_infra.sql import load_stack_config

COMPONENT = "mfb:postgres:AnalyticsDatabase"
GRANT = "postgresql:index/grant:Grant"
DEFAULT_PRIVS = "postgresql:index/defaultPrivileges:DefaultPrivileges"
ROLE = "postgresql:index/role:Role"
SCHEMA = "postgresql:index/schema:Schema"
PROVIDER = "pulumi:providers:postgresql"
POLICIES = "pulumi-python:dynamic/postgres:TenantPolicies"
HEROKU_CRED = "pulumi-python:dynamic/heroku:PostgresCredential"
PASSWORD = "random:index/randomPassword:RandomPassword"
ADMIN_USER = f"{PLACEHOLDER_PREFIX}databaseAdminUser"

EXTRA_TENANT = {"slug": "ga", "whiteLabelId": 42, "displayName": "Georgia"}


@pytest.fixture(scope="module")
def sql_run() -> ProgramRun:
    """Production's tenants with roles created by SQL (self-hosted / local mode)."""
    return run_program("production", {"databaseTenantCredentialMode": "sql"})


def _tenants_with(extra: dict | None = None, drop: str | None = None) -> str:
    cfg = load_stack_config("production")
    rows = [
        {"slug": t.slug, "whiteLabelId": t.white_label_id} for t in cfg.tenants if t.slug != drop
    ]
    if extra:
        rows.append(extra)
    return json.dumps(rows)


def _tenant_grants(run: ProgramRun) -> set[tuple]:
    out = set()
    for r in run.of_type(GRANT):
        i = unwrap(r.inputs)
        out.add((i["role"], i["objectType"], i.get("schema"), tuple(sorted(i["privileges"]))))
    return out


def _tenant_default_privs(run: ProgramRun) -> set[tuple]:
    out = set()
    for r in run.of_type(DEFAULT_PRIVS):
        i = unwrap(r.inputs)
        owner = OWNER if i["owner"] == ADMIN_USER else i["owner"]
        out.add((i["role"], owner, i["schema"], i["objectType"], tuple(sorted(i["privileges"]))))
    return out


def _sql_grants(sql: str) -> tuple[set[tuple], set[tuple]]:
    """Tenant grants and default privileges read back from the rendered SQL text."""
    grants, defaults = set(), set()
    for m in re.finditer(r'^GRANT ([A-Z, ]+) ON SCHEMA "([^"]+)" TO "([^"]+)";', sql, re.M):
        grants.add((m[3], "schema", m[2], tuple(sorted(m[1].split(", ")))))
    for m in re.finditer(
        r'^GRANT ([A-Z, ]+) ON ALL TABLES IN SCHEMA "([^"]+)" TO "([^"]+)";', sql, re.M
    ):
        grants.add((m[3], "table", m[2], tuple(sorted(m[1].split(", ")))))
    for m in re.finditer(
        r"'GRANT ([A-Z, ]+) ON DATABASE %I TO %s', current_database\(\), "
        r"'\"([^\"]+)\"'",
        sql,
    ):
        grants.add((m[2], "database", None, tuple(sorted(m[1].split(", ")))))
    found: dict[tuple, tuple] = {}
    for m in re.finditer(
        r'^ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER IN SCHEMA "([^"]+)" REVOKE ALL '
        r'ON TABLES FROM "([^"]+)";',
        sql,
        re.M,
    ):
        found[(m[2], OWNER, m[1], "table")] = ()
    for m in re.finditer(
        r'^ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER IN SCHEMA "([^"]+)" GRANT ([A-Z, ]+) '
        r'ON TABLES TO "([^"]+)";',
        sql,
        re.M,
    ):
        found[(m[3], OWNER, m[1], "table")] = tuple(sorted(m[2].split(", ")))
    defaults = {(*k, v) for k, v in found.items()}
    return grants, defaults


# ---- one model, two renderings ---------------------------------------------------------------
def test_registered_grants_are_the_plans_tenant_grants(sql_run):
    plan = plan_for(load_stack_config("production"))
    expected = {
        (g.role, g.object_type, g.schema, tuple(sorted(g.privileges)))
        for t in plan.tenant_roles
        for g in plan.tenant_grants(t)
    }
    assert _tenant_grants(sql_run) == expected


def test_registered_grants_match_the_rendered_sql(sql_run):
    plan = plan_for(load_stack_config("production"))
    sql_grants, _ = _sql_grants(render_sql(plan))
    assert _tenant_grants(sql_run) == sql_grants


def test_registered_default_privileges_match_the_rendered_sql(sql_run):
    plan = plan_for(load_stack_config("production"))
    _, sql_defaults = _sql_grants(render_sql(plan))
    assert _tenant_default_privs(sql_run) == sql_defaults and len(sql_defaults) == 8


def test_schemas_are_owned_by_the_owner_credential_as_the_sql_renders_them(sql_run):
    plan = plan_for(load_stack_config("production"))
    sql = render_sql(plan)
    rendered = set(
        re.findall(
            r'^CREATE SCHEMA IF NOT EXISTS "([^"]+)" AUTHORIZATION '
            r"CURRENT_USER;",
            sql,
            re.M,
        )
    )
    registered = {
        unwrap(r.inputs)["name"]: unwrap(r.inputs)["owner"] for r in sql_run.of_type(SCHEMA)
    }
    assert rendered == set(registered) == {"analytics", "analytics_internal"}
    assert set(registered.values()) == {ADMIN_USER}


# ---- what a tenant may touch -------------------------------------------------------------------
def test_no_tenant_grant_beyond_connect_and_usage(sql_run):
    privileges = {p for (_, _, _, privs) in _tenant_grants(sql_run) for p in privs}
    assert privileges == {"CONNECT", "USAGE"}


def test_no_grant_to_public_and_none_on_the_public_schema(sql_run):
    grants = _tenant_grants(sql_run)
    assert not [g for g in grants if g[0].lower() == "public" or g[2] == "public"]


def test_every_grant_names_a_convention_role(sql_run):
    pattern = re.compile(r"^wl_([a-z][a-z_]*)_([0-9]+)_ro$")
    assert all(pattern.fullmatch(role) for role, *_ in _tenant_grants(sql_run))


def test_no_schema_wide_table_grant(sql_run):
    # SELECT comes per relation with its row level security (TenantPolicies, dbt's post-hook)
    assert [
        r.name for r in sql_run.of_type(GRANT) if unwrap(r.inputs)["objectType"] == "table"
    ] == []


def test_default_privileges_are_revoked_not_granted(sql_run):
    rows = _tenant_default_privs(sql_run)
    assert len(rows) == 8
    assert {(owner, schema, typ, privs) for _, owner, schema, typ, privs in rows} == {
        (OWNER, "analytics", "table", ())
    }


def test_sql_mode_roles_carry_the_plans_limits(sql_run):
    limits = plan_for(load_stack_config("production")).limits
    got = {
        (
            unwrap(r.inputs)["connectionLimit"],
            unwrap(r.inputs)["statementTimeout"],
            unwrap(r.inputs)["idleInTransactionSessionTimeout"],
        )
        for r in sql_run.of_type(ROLE)
    }
    assert got == {
        (
            limits.connection_limit,
            limits.statement_timeout_ms,
            limits.idle_in_transaction_timeout_ms,
        )
    }


def test_tenant_policies_carry_the_limits_from_config():
    run = run_program(
        "production",
        {"databaseTenantConnectionLimit": 3, "databaseTenantTempFileLimitMb": 64},
    )
    limits = {json.dumps(unwrap(r.inputs)["limits"], sort_keys=True) for r in run.of_type(POLICIES)}
    assert [json.loads(x) for x in limits] == [
        {
            "connection_limit": 3,
            "idle_in_transaction_timeout_ms": 60000,
            "statement_timeout_ms": 120000,
            "temp_file_limit_mb": 64,
        }
    ]


# ---- sql mode ----------------------------------------------------------------------------------
def test_sql_mode_creates_one_login_role_per_tenant(sql_run):
    names = sorted(unwrap(r.inputs)["name"] for r in sql_run.of_type(ROLE))
    expected = sorted(t.role_name for t in load_stack_config("production").tenants)
    assert names == expected


def test_sql_mode_roles_have_no_elevated_attributes(sql_run):
    for r in sql_run.of_type(ROLE):
        i = unwrap(r.inputs)
        assert i["login"] is True
        assert not any(
            i.get(k)
            for k in (
                "superuser",
                "createDatabase",
                "createRole",
                "replication",
                "bypassRowLevelSecurity",
            )
        ), i


def test_sql_mode_role_passwords_are_generated_and_secret(sql_run):
    component = sql_run.one(COMPONENT)
    assert len([r for r in sql_run.children_of(component) if r.type == PASSWORD]) == 8
    for r in sql_run.of_type(ROLE):
        assert is_secret(r.inputs["password"])
        assert unwrap(r.inputs["password"]).startswith(f"{PLACEHOLDER_PREFIX}random:")


# ---- heroku mode (production's stack file) -----------------------------------------------------
def test_heroku_mode_creates_credentials_through_heroku_not_roles(production_run):
    creds = production_run.of_type(HEROKU_CRED)
    assert production_run.of_type(ROLE) == []
    assert sorted(unwrap(c.inputs)["name"] for c in creds) == sorted(
        t.role_name for t in load_stack_config("production").tenants
    )
    assert {unwrap(c.inputs)["app"] for c in creds} == {"cobenefits-api"}


def test_heroku_mode_grants_go_to_the_credentials(production_run):
    roles = {g[0] for g in _tenant_grants(production_run)}
    assert roles == {unwrap(c.inputs)["name"] for c in production_run.of_type(HEROKU_CRED)}


def test_heroku_credential_password_is_a_secret_output(production_run):
    for c in production_run.of_type(HEROKU_CRED):
        assert "password" in c.additional_secret_outputs


# ---- policies on existing marts ------------------------------------------------------------------
def test_one_policy_resource_per_tenant_with_its_own_id(sql_run):
    cfg = load_stack_config("production")
    got = {
        (unwrap(r.inputs)["role"], unwrap(r.inputs)["white_label_id"])
        for r in sql_run.of_type(POLICIES)
    }
    assert got == {(t.role_name, t.white_label_id) for t in cfg.tenants}


def test_policy_connection_secrets_are_secret_inputs(sql_run):
    for r in sql_run.of_type(POLICIES):
        assert all(is_secret(r.inputs[k]) for k in ("host", "user", "password"))


def test_policies_wait_for_their_role(sql_run):
    roles = {unwrap(r.inputs)["name"]: r.urn for r in sql_run.of_type(ROLE)}
    for r in sql_run.of_type(POLICIES):
        assert roles[unwrap(r.inputs)["role"]] in r.dependencies


def test_grants_wait_for_their_role(sql_run):
    role_urns = {r.urn for r in sql_run.of_type(ROLE)}
    for r in sql_run.of_type(GRANT) + sql_run.of_type(DEFAULT_PRIVS):
        assert role_urns & set(r.dependencies), r.name


# ---- structure -----------------------------------------------------------------------------------
def test_postgres_resources_use_the_components_explicit_provider(sql_run):
    provider = sql_run.one(PROVIDER)
    for typ in (GRANT, DEFAULT_PRIVS, ROLE, SCHEMA):
        for r in sql_run.of_type(typ):
            assert r.provider and r.provider.startswith(provider.urn), r.name


def test_provider_credentials_are_secret(sql_run):
    inputs = sql_run.one(PROVIDER).inputs
    assert all(is_secret(inputs[k]) for k in ("host", "username", "password"))


def test_children_are_parented_to_the_component(sql_run):
    component = sql_run.one(COMPONENT)
    kids = {r.type for r in sql_run.children_of(component)}
    assert {GRANT, DEFAULT_PRIVS, ROLE, SCHEMA, PROVIDER, POLICIES, PASSWORD} <= kids


def test_schemas_are_kept_when_the_component_is_deleted(sql_run):
    assert all(r.retain_on_delete for r in sql_run.of_type(SCHEMA))


def test_component_registers_tenant_roles_output(sql_run):
    out = sql_run.one(COMPONENT).outputs
    assert out["tenantRoles"] == {
        t.slug: t.role_name for t in load_stack_config("production").tenants
    }


def test_no_generated_or_config_secret_appears_unwrapped(sql_run):
    def walk(value, secret=False):
        if is_secret(value):
            yield from walk(value.get("value"), True)
        elif isinstance(value, dict):
            for v in value.values():
                yield from walk(v, secret)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v, secret)
        elif isinstance(value, str) and PLACEHOLDER_PREFIX in value and not secret:
            yield value

    leaks = [(r.name, v) for r in sql_run.registrations for v in walk(r.inputs)]
    assert leaks == []


# ---- the path of one tenant --------------------------------------------------------------------
def test_adding_a_tenant_adds_its_role_grants_defaults_and_policies():
    run = run_program(
        "production",
        {"databaseTenantCredentialMode": "sql", "tenants": _tenants_with(EXTRA_TENANT)},
    )
    role = "wl_ga_42_ro"
    assert role in {unwrap(r.inputs)["name"] for r in run.of_type(ROLE)}
    assert {g for g in _tenant_grants(run) if g[0] == role} == {
        (role, "database", None, ("CONNECT",)),
        (role, "schema", "analytics", ("USAGE",)),
    }
    assert any(unwrap(r.inputs)["role"] == role for r in run.of_type(DEFAULT_PRIVS))
    assert any(unwrap(r.inputs)["role"] == role for r in run.of_type(POLICIES))


def test_removing_a_tenant_removes_everything_of_its_role():
    run = run_program(
        "production", {"databaseTenantCredentialMode": "sql", "tenants": _tenants_with(drop="wa")}
    )
    mentioned = json.dumps([unwrap(r.inputs) for r in run.registrations], default=str)
    assert "wl_wa_41_ro" not in mentioned


# ---- shared mode ---------------------------------------------------------------------------------
def test_shared_mode_creates_no_tenant_roles_grants_or_policies(staging_run):
    kids = staging_run.children_of(staging_run.one(COMPONENT))
    tenant_types = {ROLE, GRANT, DEFAULT_PRIVS, POLICIES, HEROKU_CRED, PASSWORD}
    assert [r.name for r in kids if r.type in tenant_types] == []


def test_shared_mode_warns_loudly(caplog):
    with caplog.at_level("WARNING"):
        run_program("staging")
    text = "\n".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "NO TENANT ISOLATION" in text and "databaseTenantCredentialMode=shared" in text


def test_isolated_modes_do_not_warn_about_shared_credentials(caplog):
    with caplog.at_level("WARNING"):
        run_program("production")
    assert "NO TENANT ISOLATION" not in caplog.text


def test_shared_mode_is_refused_for_production():
    with pytest.raises(ConfigError) as info:
        run_program("production", {"databaseTenantCredentialMode": "shared"})
    assert "databaseTenantCredentialMode" in str(info.value)
