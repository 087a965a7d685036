"""WorkloadIdentity under Pulumi's mocks: WIF pinning, least-privilege IAM, ownership, key."""

from __future__ import annotations

import functools
import json

import pytest
import yaml

from components.gcp import attribute_condition, service_account_id
from mfb_infra.program import REPO, ProgramRun, is_secret, run_program, unwrap

POOL = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"
PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
ACCOUNT = "gcp:serviceaccount/account:Account"
KEY = "gcp:serviceaccount/key:Key"
SA_IAM = "gcp:serviceaccount/iAMMember:IAMMember"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
DATASET = "gcp:bigquery/dataset:Dataset"
DATASET_IAM = "gcp:bigquery/datasetIamMember:DatasetIamMember"
SERVICE = "gcp:projects/service:Service"


def run(stack: str, overrides: dict | None = None, **kw) -> ProgramRun:
    """The real program (`__main__.py`) under mocks."""
    return run_program(stack, overrides, **kw)


@functools.cache
def cached(stack: str) -> ProgramRun:
    return run(stack)


def stack_value(stack: str, key: str):
    doc = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    return doc["config"][f"mfb-analytics:{key}"]


def accounts(r: ProgramRun) -> set[str]:
    return {a.inputs["accountId"] for a in r.of_type(ACCOUNT)}


STACKS = ["staging", "production"]


@pytest.mark.parametrize("stack", STACKS)
def test_wif_condition_names_the_repository_and_the_environment(stack):
    cond = cached(stack).one(PROVIDER).inputs["attributeCondition"]
    assert f"assertion.repository == '{stack_value(stack, 'githubRepository')}'" in cond
    assert f"assertion.environment == '{stack}'" in cond


def test_wif_condition_follows_the_configured_repository():
    r = run("production", {"githubRepository": "SomeOrg/other-repo"})
    assert (
        "assertion.repository == 'SomeOrg/other-repo'"
        in r.one(PROVIDER).inputs["attributeCondition"]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_provider_trusts_only_github_oidc(stack):
    oidc = cached(stack).one(PROVIDER).inputs["oidc"]
    assert oidc["issuerUri"] == "https://token.actions.githubusercontent.com"


@pytest.mark.parametrize("stack", STACKS)
def test_no_primitive_or_admin_role_anywhere(stack):
    roles = {
        r.inputs["role"]
        for t in (PROJECT_IAM, DATASET_IAM, SA_IAM)
        for r in cached(stack).of_type(t)
    }
    assert not {r for r in roles if r in ("roles/owner", "roles/editor", "roles/viewer")}
    assert not {r for r in roles if r.endswith(".admin")}


@pytest.mark.parametrize("stack", STACKS)
def test_only_project_level_grant_is_bigquery_job_user(stack):
    roles = {r.inputs["role"] for r in cached(stack).of_type(PROJECT_IAM)}
    assert roles == {"roles/bigquery.jobUser"}


@pytest.mark.parametrize("stack", STACKS)
def test_dbt_edits_only_the_analytics_dataset(stack):
    r = cached(stack)
    dbt = _member_of(r, "dbt")
    editor = [
        m
        for m in r.of_type(DATASET_IAM)
        if unwrap(m.inputs["member"]) == dbt and m.inputs["role"] == "roles/bigquery.dataEditor"
    ]
    assert [m.inputs["datasetId"] for m in editor] == [stack_value(stack, "gcpAnalyticsDataset")]


@pytest.mark.parametrize("stack", STACKS)
def test_dbt_only_reads_the_ga4_export(stack):
    r = cached(stack)
    dbt = _member_of(r, "dbt")
    grants = {
        (m.inputs["datasetId"], m.inputs["role"])
        for m in r.of_type(DATASET_IAM)
        if unwrap(m.inputs["member"]) == dbt
    }
    assert (stack_value(stack, "gcpGa4Dataset"), "roles/bigquery.dataViewer") in grants
    assert not any(
        ds == stack_value(stack, "gcpGa4Dataset") and role != "roles/bigquery.dataViewer"
        for ds, role in grants
    )


@pytest.mark.parametrize("stack", STACKS)
def test_metabase_only_reads_the_analytics_dataset(stack):
    r = cached(stack)
    mb = _member_of(r, "metabase")
    grants = {
        (m.inputs["datasetId"], m.inputs["role"])
        for m in r.of_type(DATASET_IAM)
        if unwrap(m.inputs["member"]) == mb
    }
    assert grants == {(stack_value(stack, "gcpAnalyticsDataset"), "roles/bigquery.dataViewer")}


@pytest.mark.parametrize("stack", STACKS)
def test_dbt_is_impersonable_only_through_this_stacks_pool(stack):
    r = cached(stack)
    pool = r.one("mfb:gcp:WorkloadIdentity").outputs["poolName"]
    bindings = r.of_type(SA_IAM)
    assert len(bindings) == 1
    b = bindings[0]
    assert b.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert "mfb-dbt-" in b.inputs["serviceAccountId"]
    repo = stack_value(stack, "githubRepository")
    assert b.inputs["member"] == (
        f"principalSet://iam.googleapis.com/{pool}/attribute.repository/{repo}"
    )


def test_stacks_own_disjoint_pools_accounts_and_datasets():
    s, p = cached("staging"), cached("production")
    assert (
        s.one(POOL).inputs["workloadIdentityPoolId"] != p.one(POOL).inputs["workloadIdentityPoolId"]
    )
    assert not accounts(s) & accounts(p)
    assert s.one(DATASET).inputs["datasetId"] != p.one(DATASET).inputs["datasetId"]


@pytest.mark.parametrize("stack", STACKS)
def test_apis_stay_enabled_on_destroy(stack):
    services = cached(stack).of_type(SERVICE)
    assert "iamcredentials.googleapis.com" in {s.inputs["service"] for s in services}
    assert all(s.inputs["disableOnDestroy"] is False for s in services)


@pytest.mark.parametrize("stack", STACKS)
def test_no_key_is_created_while_the_org_policy_blocks_it(stack):
    assert cached(stack).of_type(KEY) == []


def test_key_is_created_when_the_switch_is_on_and_exposed_as_secret():
    r = run("staging", {"gcpCreateMetabaseKey": True})
    key = r.one(KEY)
    assert "mfb-metabase-staging" in key.inputs["serviceAccountId"]
    comp = r.one("mfb:gcp:WorkloadIdentity")
    assert is_secret(comp.outputs["metabaseKey"])
    assert json.loads(unwrap(comp.outputs["metabaseKey"]))["type"] == "service_account"


def test_supplied_key_is_exposed_as_secret():
    supplied = json.dumps({"type": "service_account", "private_key_id": "supplied"})
    r = run("production", secret_values={"metabaseBigquerySaKey": supplied})
    comp = r.one("mfb:gcp:WorkloadIdentity")
    assert is_secret(comp.outputs["metabaseKey"])
    assert unwrap(comp.outputs["metabaseKey"]) == supplied


def test_gcp_children_are_parented_to_the_component():
    r = cached("production")
    comp = r.one("mfb:gcp:WorkloadIdentity")
    gcp_types = [x for x in r.registrations if x.type.startswith("gcp:")]
    assert gcp_types and all(x.parent == comp.urn for x in gcp_types)


def test_condition_refuses_a_quote_in_the_repository():
    with pytest.raises(ValueError, match="CEL"):
        attribute_condition("Org/re'po", "production")


def test_service_account_id_longer_than_30_chars_is_refused():
    with pytest.raises(ValueError, match="6-30"):
        service_account_id("metabase-bigquery-reader", "production")


def _member_of(r: ProgramRun, role: str) -> str:
    """`serviceAccount:<email>` of the component's dbt or metabase account."""
    outs = r.one("mfb:gcp:WorkloadIdentity").outputs
    return f"serviceAccount:{outs[f'{role}ServiceAccountEmail']}"
