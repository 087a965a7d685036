"""CiEnvironment under Pulumi's mocks: environments, protection, and the secrets/variables."""

from __future__ import annotations

import functools
import json

import pulumi
import pytest
import yaml

from components.github import BOOTSTRAP_SECRETS, BOOTSTRAP_VARIABLES, environment_values
from components.outputs import DbCredential, DbEndpoint
from mfb_infra.program import PLACEHOLDER_PREFIX, REPO, ProgramRun, is_secret, run_program, unwrap

ENV = "github:index/repositoryEnvironment:RepositoryEnvironment"
POLICY = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
STACKS = ["staging", "production"]


def run(stack: str, overrides: dict | None = None, **kw) -> ProgramRun:
    return run_program(stack, overrides, **kw)


@functools.cache
def cached(stack: str) -> ProgramRun:
    return run(stack)


def stack_tenants(stack: str) -> list[dict]:
    doc = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    return doc["config"]["mfb-analytics:tenants"]


def secrets_of(r: ProgramRun) -> dict[str, object]:
    return {s.inputs["secretName"]: s.inputs.get("value") for s in r.of_type(SECRET)}


def variables_of(r: ProgramRun) -> dict[str, object]:
    return {v.inputs["variableName"]: v.inputs.get("value") for v in r.of_type(VARIABLE)}


def env(r: ProgramRun, name: str):
    found = [e for e in r.of_type(ENV) if e.inputs["environment"] == name]
    assert len(found) == 1, [e.inputs["environment"] for e in r.of_type(ENV)]
    return found[0]


# ---- environments and protection ---------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_stack_owns_its_data_and_deploy_environments(stack):
    names = {e.inputs["environment"] for e in cached(stack).of_type(ENV)}
    preview = {"staging-preview"} if stack == "staging" else set()
    assert names == {stack, f"{stack}-deploy"} | preview


def test_pull_requests_preview_in_a_staging_environment_open_to_any_branch():
    e = env(cached("staging"), "staging-preview")
    assert "deploymentBranchPolicy" not in e.inputs and "reviewers" not in e.inputs


def test_production_deploy_without_reviewers_does_not_ask_github_for_self_review_prevention():
    """GitHub refuses prevent_self_review without reviewers; the stack file has none yet."""
    deploy = env(cached("production"), "production-deploy")
    assert "reviewers" not in deploy.inputs and "preventSelfReview" not in deploy.inputs
    assert deploy.inputs["canAdminsBypass"] is False


@pytest.mark.parametrize(
    ("users", "teams"),
    [([1, 2, 3, 4], [5, 6, 7]), ([0], []), ([5, 5], [])],
    ids=["seven", "zero-id", "duplicate"],
)
def test_reviewer_lists_github_refuses_are_config_errors(users, teams):
    from components.config import ConfigError

    with pytest.raises(ConfigError) as e:
        run(
            "production",
            {"githubProductionReviewerUserIds": users, "githubProductionReviewerTeamIds": teams},
        )
    assert "githubProductionReviewerUserIds" in str(e.value)


def test_six_reviewers_are_accepted():
    r = run(
        "production",
        {
            "githubProductionReviewerUserIds": [1, 2, 3],
            "githubProductionReviewerTeamIds": [4, 5, 6],
        },
    )
    assert env(r, "production-deploy").inputs["preventSelfReview"] is True


def test_production_deploy_requires_the_configured_reviewers():
    r = run(
        "production",
        {"githubProductionReviewerUserIds": [101], "githubProductionReviewerTeamIds": [7]},
    )
    deploy = env(r, "production-deploy")
    assert deploy.inputs["reviewers"] == [{"users": [101], "teams": [7]}]
    assert deploy.inputs["preventSelfReview"] is True
    assert deploy.inputs["canAdminsBypass"] is False


def test_staging_deploy_needs_no_reviewer():
    assert "reviewers" not in env(cached("staging"), "staging-deploy").inputs


def test_nightly_environment_has_no_reviewers_so_the_cron_runs_unattended():
    r = run("production", {"githubProductionReviewerUserIds": [101]})
    assert "reviewers" not in env(r, "production").inputs


@pytest.mark.parametrize("name", ["production", "production-deploy"])
def test_production_environments_accept_main_only(name):
    r = cached("production")
    e = env(r, name)
    assert e.inputs["deploymentBranchPolicy"] == {
        "protectedBranches": False,
        "customBranchPolicies": True,
    }
    patterns = [
        p.inputs["branchPattern"] for p in r.of_type(POLICY) if p.inputs["environment"] == name
    ]
    assert patterns == ["main"]


# ---- secrets and variables ---------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_every_secret_value_is_a_secret(stack):
    r = cached(stack)
    assert r.of_type(SECRET)
    for s in r.of_type(SECRET):
        assert is_secret(s.inputs["value"]), s.inputs["secretName"]
        assert "plaintextValue" not in s.inputs


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_and_variables_live_in_the_data_environment(stack):
    r = cached(stack)
    targets = {x.inputs["environment"] for x in r.of_type(SECRET) + r.of_type(VARIABLE)}
    assert targets == {stack}


@pytest.mark.parametrize("stack", STACKS)
def test_each_configured_tenant_has_its_credential_secrets(stack):
    names = set(secrets_of(cached(stack)))
    for t in stack_tenants(stack):
        assert {f"{t['slug'].upper()}_DB_USER", f"{t['slug'].upper()}_DB_PASS"} <= names


def test_removing_a_tenant_removes_its_secrets_and_keeps_the_others():
    tenants = [t for t in stack_tenants("production") if t["slug"] != "wa"]
    before = {s.name for s in cached("production").of_type(SECRET)}
    after_run = run("production", {"tenants": json.dumps(tenants)})
    after = {s.name for s in after_run.of_type(SECRET)}
    assert "WA_DB_USER" not in secrets_of(after_run)
    assert "WA_DB_PASS" not in secrets_of(after_run)
    assert before - after == {"ci-secret-wa-db-user", "ci-secret-wa-db-pass"}


def test_adding_a_tenant_adds_its_secrets():
    tenants = [*stack_tenants("staging"), {"slug": "ga", "whiteLabelId": 77}]
    r = run("staging", {"tenants": json.dumps(tenants)})
    assert {"GA_DB_USER", "GA_DB_PASS"} <= set(secrets_of(r))


def test_secret_values_come_from_stack_secrets():
    r = run("staging", secret_values={"databaseHost": "db.example", "metabaseAdminPassword": "mb"})
    values = {k: unwrap(v) for k, v in secrets_of(r).items()}
    assert values["DATABASE_HOST"] == "db.example"
    assert values["METABASE_ADMIN_PASSWORD"] == "mb"
    assert values["GLOBAL_DB_USER"] == f"{PLACEHOLDER_PREFIX}databaseAdminUser"


@pytest.mark.parametrize("stack", STACKS)
def test_wif_variables_are_the_identity_components_outputs(stack):
    r = cached(stack)
    outs = r.one("mfb:gcp:WorkloadIdentity").outputs
    v = variables_of(r)
    assert v["WIF_PROVIDER"] == outs["providerName"]
    assert v["WIF_SERVICE_ACCOUNT"] == outs["dbtServiceAccountEmail"]
    assert v["GCP_BQ_DATASET"] == outs["datasetId"]


def test_metabase_url_has_no_trailing_slash():
    assert not variables_of(cached("production"))["METABASE_URL"].endswith("/")


def test_bigquery_disabled_declares_no_gcp_variables():
    r = run("staging", {"gcpBigqueryEnabled": False})
    v = variables_of(r)
    assert v["BIGQUERY_ENABLED"] == "false"
    assert not {k for k in v if k.startswith(("GCP_", "WIF_"))}


def test_legacy_terraform_gets_the_metabase_key_while_it_exists():
    key = json.dumps({"type": "service_account"})
    with_legacy = run("production", secret_values={"metabaseBigquerySaKey": key})
    assert unwrap(secrets_of(with_legacy)["BIGQUERY_SA_KEY"]) == key
    without = run("production", {"tfeEnabled": False}, secret_values={"metabaseBigquerySaKey": key})
    assert "BIGQUERY_SA_KEY" not in secrets_of(without)


def test_bootstrap_names_never_collide_with_managed_names():
    managed = set(secrets_of(cached("production"))) | set(variables_of(cached("production")))
    assert not managed & (set(BOOTSTRAP_SECRETS) | set(BOOTSTRAP_VARIABLES))


def test_credentials_for_an_unconfigured_tenant_are_refused():
    from components.config import StackConfig

    cfg = StackConfig.from_mapping(_minimal_config())
    cred = DbCredential(username="u", password="p")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no tenant in config"):
        environment_values(
            cfg,
            None,  # type: ignore[arg-type]
            database=DbEndpoint(host="h", port=5432, dbname="d", sslmode="require"),  # type: ignore[arg-type]
            admin=cred,
            tenant_credentials={"co": cred, "zz": cred},
            metabase_url=pulumi.Output.from_input("https://m"),
            identity=None,
        )


def _minimal_config() -> dict:
    return {
        "environment": "staging",
        "tenants": [{"slug": "co", "whiteLabelId": 1}],
        "databaseName": "d",
        "herokuTeam": "t",
        "herokuAppName": "a",
        "metabaseVersion": "v0.56.19",
        "metabaseAdminEmail": "a@b.org",
        "githubRepository": "O/r",
        "gcpProject": "p",
        "gcpProjectNumber": "1",
        "gcpGa4Dataset": "g",
        "tfeWorkspace": "w",
    }
