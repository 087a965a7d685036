"""The policy pack in policy/: each policy on hand-built arguments (a violation and a compliant
control), over the program's real registrations for both stacks, and wired through the real
pulumi_policy classes in the pack's own virtualenv (policy/venv, made by scripts/setup.sh)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mfb_infra.program import REPO, ProgramRun, unwrap

sys.path.insert(0, str(REPO / "policy"))
import mfb_policies as mp

POLICY_DIR = REPO / "policy"
POLICY_PYTHON = POLICY_DIR / "venv" / "bin" / "python"
PROD = "urn:pulumi:production::mfb-analytics::"
STAGING = "urn:pulumi:staging::mfb-analytics::"


def res(typ: str, props: dict, *, stack: str = PROD, name: str = "r", protect: bool = False):
    return mp.Resource(typ, props, f"{stack}{typ}::{name}", name, protect)


def names(resources) -> list[str]:
    return [name for name, _urn, _msg in mp.violations(resources)]


def as_policy_resources(run: ProgramRun) -> list[mp.Resource]:
    # what an analyzer receives: plain values (the engine unwraps secrets for policy packs)
    return [
        mp.Resource(r.type, unwrap(r.inputs), r.urn, r.name, r.protect)
        for r in run.registrations
        if r.custom and not r.read
    ]


# ---- tenant-grants-read-only -------------------------------------------------------------------
def test_a_tenant_select_grant_is_allowed():
    g = res(mp.GRANT, {"role": "wl_nc_5_ro", "objectType": "table", "privileges": ["SELECT"]})
    assert names([g]) == []


@pytest.mark.parametrize("privileges", [["ALL"], ["SELECT", "INSERT"], ["UPDATE"], ["TRUNCATE"]])
def test_a_tenant_table_grant_beyond_select_is_refused(privileges):
    g = res(mp.GRANT, {"role": "wl_nc_5_ro", "objectType": "table", "privileges": privileges})
    assert names([g]) == ["tenant-grants-read-only"]


def test_create_on_the_schema_is_refused_for_a_tenant():
    g = res(
        mp.GRANT, {"role": "wl_co_1_ro", "objectType": "schema", "privileges": ["CREATE", "USAGE"]}
    )
    assert names([g]) == ["tenant-grants-read-only"]


def test_a_default_privilege_beyond_select_is_refused_for_a_tenant():
    d = res(
        mp.DEFAULT_PRIVILEGES, {"role": "wl_co_1_ro", "objectType": "table", "privileges": ["ALL"]}
    )
    assert names([d]) == ["tenant-grants-read-only"]


def test_a_grantable_tenant_privilege_is_refused():
    g = res(
        mp.GRANT,
        {
            "role": "wl_nc_5_ro",
            "objectType": "table",
            "privileges": ["SELECT"],
            "withGrantOption": True,
        },
    )
    assert names([g]) == ["tenant-grants-read-only"]


def test_the_owner_may_hold_more_than_a_tenant():
    g = res(
        mp.GRANT, {"role": "mfb_owner", "objectType": "schema", "privileges": ["CREATE", "USAGE"]}
    )
    assert names([g]) == []


# ---- tenant-roles-cannot-escalate --------------------------------------------------------------
@pytest.mark.parametrize(
    "flag", ["superuser", "bypassRowLevelSecurity", "createRole", "createDatabase"]
)
def test_a_tenant_role_with_an_escalation_is_refused(flag):
    assert names([res(mp.ROLE, {"name": "wl_nc_5_ro", "login": True, flag: True})]) == [
        "tenant-roles-cannot-escalate"
    ]


def test_a_tenant_role_member_of_another_role_is_refused():
    role = res(mp.ROLE, {"name": "wl_nc_5_ro", "login": True, "roles": ["mfb_owner"]})
    assert names([role]) == ["tenant-roles-cannot-escalate"]


def test_a_plain_tenant_login_role_is_allowed():
    assert names([res(mp.ROLE, {"name": "wl_nc_5_ro", "login": True, "superuser": False})]) == []


# ---- production-data-protected ------------------------------------------------------------------
@pytest.mark.parametrize("typ", sorted(mp.DATA_RESOURCES))
def test_an_unprotected_production_data_resource_is_refused(typ):
    assert names([res(typ, {}, protect=False)]) == ["production-data-protected"]


@pytest.mark.parametrize("typ", sorted(mp.DATA_RESOURCES))
def test_a_protected_production_data_resource_is_allowed(typ):
    assert names([res(typ, {}, protect=True)]) == []


def test_staging_data_may_be_unprotected():
    assert names([res("gcp:bigquery/dataset:Dataset", {}, stack=STAGING)]) == []


# ---- no-secret-in-plain-input -------------------------------------------------------------------
SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
APP = "heroku:app/app:App"


def test_a_secret_in_the_deprecated_plaintext_input_is_refused():
    s = res(
        SECRET, {"repository": "r", "environment": "e", "secretName": "X", "plaintextValue": "v"}
    )
    assert names([s]) == ["no-secret-in-plain-input"]


def test_a_secret_in_the_secret_value_input_is_allowed():
    s = res(SECRET, {"repository": "r", "environment": "e", "secretName": "DB_PASS", "value": "v"})
    assert names([s]) == []


def test_a_password_in_plain_config_vars_is_refused():
    app = res(APP, {"name": "a", "region": "us", "configVars": {"MB_DB_PASS": "hunter2"}})
    assert names([app]) == ["no-secret-in-plain-input"]


def test_a_password_in_sensitive_config_vars_is_allowed():
    app = res(APP, {"name": "a", "region": "us", "sensitiveConfigVars": {"MB_DB_PASS": "x"}})
    assert names([app]) == []


def test_a_connection_url_with_a_password_in_plain_config_is_refused():
    url = "postgres://u:secretpw@host:5432/db"
    app = res(APP, {"name": "a", "region": "us", "configVars": {"MB_DB_CONNECTION_URI": url}})
    assert names([app]) == ["no-secret-in-plain-input"]


def test_a_credential_named_github_variable_is_refused():
    v = res(
        mp.VARIABLE,
        {"repository": "r", "environment": "e", "variableName": "GLOBAL_DB_PASS", "value": "x"},
    )
    assert names([v]) == ["no-secret-in-plain-input"]


def test_a_plain_github_variable_is_allowed():
    v = res(
        mp.VARIABLE,
        {"repository": "r", "environment": "e", "variableName": "DATABASE_NAME", "value": "d"},
    )
    assert names([v]) == []


# ---- production-deploy-requires-reviewers -------------------------------------------------------
GOOD_DEPLOY = {
    "repository": "data-queries",
    "environment": "production-deploy",
    "reviewers": [{"users": [101]}],
    "preventSelfReview": True,
    "canAdminsBypass": False,
    "deploymentBranchPolicy": {"protectedBranches": False, "customBranchPolicies": True},
}


def test_a_reviewed_production_deploy_environment_is_allowed():
    assert names([res(mp.ENVIRONMENT, GOOD_DEPLOY)]) == []


@pytest.mark.parametrize(
    "change",
    [
        {"reviewers": None},
        {"reviewers": [{"users": [], "teams": []}]},
        {"preventSelfReview": None},
        {"canAdminsBypass": True},
        {"deploymentBranchPolicy": None},
    ],
    ids=["no-reviewers", "empty-reviewers", "self-review", "admin-bypass", "any-branch"],
)
def test_a_weakened_production_deploy_environment_is_refused(change):
    assert names([res(mp.ENVIRONMENT, {**GOOD_DEPLOY, **change})]) == [
        "production-deploy-requires-reviewers"
    ]


def test_other_environments_need_no_reviewers():
    env = {**GOOD_DEPLOY, "environment": "staging-deploy", "reviewers": None}
    assert names([res(mp.ENVIRONMENT, env, stack=STAGING)]) == []


# ---- over the program's own registrations --------------------------------------------------------
def test_staging_passes_every_policy(staging_run):
    assert mp.violations(as_policy_resources(staging_run)) == []


def test_production_with_reviewers_passes_every_policy():
    from mfb_infra.program import run_program

    run = run_program("production", {"githubProductionReviewerTeamIds": [7]})
    assert mp.violations(as_policy_resources(run)) == []


def test_the_committed_production_stack_is_refused_only_for_its_missing_reviewers(production_run):
    """Pulumi.production.yaml has no reviewer ids yet: a production preview/up stops there
    until the operator sets them (docs/bootstrap.md), and on nothing else."""
    found = mp.violations(as_policy_resources(production_run))
    assert [(n, urn.rsplit("::", 1)[-1]) for n, urn, _m in found] == [
        ("production-deploy-requires-reviewers", "ci-deploy")
    ]


# ---- through the real pulumi_policy classes ------------------------------------------------------
_DRIVER = r"""
import json, runpy, sys
import pulumi_policy as pp
packs = []
class Recorder:
    def __init__(self, name, enforcement_level=None, policies=None, **kw):
        packs.append((name, enforcement_level, policies))
pp.PolicyPack = Recorder
runpy.run_path(sys.argv[1], run_name="__main__")
(name, level, policies), = packs
out = {"name": name, "level": str(level), "policies": {}, "violations": []}
for p in policies:
    out["policies"][p.name] = str(p.enforcement_level)
for r in json.load(sys.stdin):
    timeouts = pp.PolicyCustomTimeouts(0, 0, 0)
    opts = pp.PolicyResourceOptions(r["protect"], [], None, [], timeouts, [])
    args = pp.ResourceValidationArgs(r["type"], r["props"], r["urn"], r["name"], opts, None)
    for p in policies:
        p.validate(args, lambda msg, urn=None, p=p: out["violations"].append([p.name, urn, msg]))
print(json.dumps(out))
"""


def _drive(resources: list[mp.Resource]) -> dict:
    assert POLICY_PYTHON.exists(), (
        "policy/venv is missing: run `bash scripts/setup.sh` (or `python3 -m venv policy/venv && "
        "policy/venv/bin/pip install -r policy/requirements.txt`)"
    )
    payload = [
        {
            "type": r.resource_type,
            "props": r.props,
            "urn": r.urn,
            "name": r.name,
            "protect": r.protect,
        }
        for r in resources
    ]
    proc = subprocess.run(
        [str(POLICY_PYTHON), "-c", _DRIVER, str(POLICY_DIR / "__main__.py")],
        input=json.dumps(payload, default=str),
        capture_output=True,
        text=True,
        cwd=POLICY_DIR,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_pack_declares_every_check_as_mandatory():
    out = _drive([])
    assert out["name"] == "mfb-analytics" and out["level"] == "EnforcementLevel.MANDATORY"
    assert out["policies"] == {c.name: "EnforcementLevel.MANDATORY" for c in mp.CHECKS}


def test_the_pack_reports_through_pulumi_policy_what_the_checks_find(production_run):
    resources = as_policy_resources(production_run)
    bad = res(mp.GRANT, {"role": "wl_nc_5_ro", "objectType": "table", "privileges": ["ALL"]})
    out = _drive([*resources, bad])
    assert sorted(map(tuple, out["violations"])) == sorted(mp.violations([*resources, bad]))
    assert {v[0] for v in out["violations"]} == {
        "production-deploy-requires-reviewers",
        "tenant-grants-read-only",
    }


def test_the_pack_pins_the_sdks_pulumi_version():
    reqs = (POLICY_DIR / "requirements.txt").read_text().split()
    pyproject = (REPO / "pyproject.toml").read_text()
    pulumi_pin = next(r for r in reqs if r.startswith("pulumi=="))
    assert f'"{pulumi_pin}"' in pyproject
    assert any(r.startswith("pulumi-policy==") for r in reqs)


def test_policy_yaml_names_the_virtualenv_setup_creates():
    import yaml

    doc = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert doc["runtime"]["name"] == "python"
    venv = doc["runtime"]["options"]["virtualenv"]
    assert Path(POLICY_DIR / venv) == POLICY_PYTHON.parent.parent
    assert "policy/venv" in (REPO / "scripts" / "setup.sh").read_text()
