"""Every resource the stacks register, checked against the providers' published schemas.

The mocks accept any input; the real providers do not. `schemas/*.json` is the subset of each
provider's schema.json (source and ref in schemas/README.md); `mfb_infra.schema_check` checks
inputs against it and adds the provider-side rules a schema cannot state.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from importlib.metadata import version
from typing import Any

import pytest

from mfb_infra import schema_check as sc
from mfb_infra.program import REPO, ProgramRun, Registration

SCHEMAS = {p: sc.load_schema(p) for p in sc.PACKAGES}


def _extractor():
    spec = importlib.util.spec_from_file_location(
        "extract_schemas", REPO / "scripts" / "extract_schemas.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def variant_runs(staging_run, production_run) -> dict[str, ProgramRun]:
    runs = {}
    for stack, overrides in sc.VARIANTS:
        key = f"{stack}:{json.dumps(overrides, sort_keys=True)}"
        if not overrides:
            runs[key] = staging_run if stack == "staging" else production_run
        else:
            runs[key] = sc.run_variant((stack, overrides))
    return runs


def _ids(variants):
    return [f"{s}{'+' + ','.join(o) if o else ''}" for s, o in variants]


@pytest.fixture(params=range(len(sc.VARIANTS)), ids=_ids(sc.VARIANTS))
def run(request, variant_runs) -> ProgramRun:
    stack, overrides = sc.VARIANTS[request.param]
    return variant_runs[f"{stack}:{json.dumps(overrides, sort_keys=True)}"]


def _one(run: ProgramRun, typ: str) -> Registration:
    return run.of_type(typ)[0]


def _with_inputs(reg: Registration, **changes: Any) -> Registration:
    inputs = dict(reg.inputs)
    for k, v in changes.items():
        if v is dataclasses.MISSING:
            inputs.pop(k, None)
        else:
            inputs[k] = v
    return dataclasses.replace(reg, inputs=inputs)


# ---- the program's registrations ---------------------------------------------------------------
def test_every_registered_resource_matches_the_published_schema(run):
    problems = sc.validate(run.registrations)
    assert not problems, "\n".join(map(str, problems))


def test_every_provider_rule_holds(run):
    problems = sc.provider_rules(run.registrations)
    assert not problems, "\n".join(map(str, problems))


def test_the_check_covers_every_provider_package_the_program_uses(staging_run, production_run):
    used = {
        sc.package_of(r.type) for run in (staging_run, production_run) for r in run.registrations
    }
    assert used - {None} == set(sc.PACKAGES)


# ---- controls: the check catches what a provider would refuse ------------------------------------
ENV = sc.ENV
DATASET = "gcp:bigquery/dataset:Dataset"
GRANT = "postgresql:index/grant:Grant"
APP = "heroku:app/app:App"


def test_an_unknown_input_is_caught(production_run):
    bad = _with_inputs(_one(production_run, ENV), preventSelfReviews=True)
    (p,) = sc.validate([bad])
    assert p.path == "preventSelfReviews" and "unknown input" in p.message


def test_a_missing_required_input_is_caught(production_run):
    bad = _with_inputs(_one(production_run, DATASET), datasetId=dataclasses.MISSING)
    (p,) = sc.validate([bad])
    assert p.path == "datasetId" and "required" in p.message


def test_a_mistyped_input_is_caught(production_run):
    bad = _with_inputs(_one(production_run, GRANT), privileges="SELECT")
    (p,) = sc.validate([bad])
    assert p.path == "privileges" and "expected a list" in p.message


def test_a_mistyped_nested_input_is_caught(production_run):
    env = _one(production_run, ENV)
    bad = _with_inputs(
        env, deploymentBranchPolicy={"protectedBranches": "no", "customBranchPolicies": True}
    )
    (p,) = sc.validate([bad])
    assert p.path == "deploymentBranchPolicy.protectedBranches" and "boolean" in p.message


def test_a_missing_required_nested_input_is_caught(production_run):
    bad = _with_inputs(
        _one(production_run, ENV), deploymentBranchPolicy={"customBranchPolicies": True}
    )
    (p,) = sc.validate([bad])
    assert p.path == "deploymentBranchPolicy.protectedBranches" and "required" in p.message


def test_a_fractional_number_for_an_integer_is_caught(production_run):
    formation = _one(production_run, "heroku:formation/formation:Formation")
    bad = _with_inputs(formation, quantity=1.5)
    (p,) = sc.validate([bad])
    assert p.path == "quantity" and "integer" in p.message


def test_an_integer_carried_as_a_float_is_accepted(production_run):
    # the engine's wire format carries every number as a float
    formation = _one(production_run, "heroku:formation/formation:Formation")
    assert sc.validate([_with_inputs(formation, quantity=2.0)]) == []


def test_a_deprecated_input_is_caught(production_run):
    secret = _one(production_run, sc.ENV_SECRET)
    value = secret.inputs["value"]
    bad = _with_inputs(secret, value=dataclasses.MISSING, plaintextValue=value)
    (p,) = sc.validate([bad])
    assert p.path == "plaintextValue" and "deprecated" in p.message


def test_a_value_outside_an_enum_is_caught():
    schema = {
        "types": {"x:index/Mode:Mode": {"type": "string", "enum": ["a", "b"]}},
        "resources": {
            "x:index/thing:Thing": {
                "inputProperties": {"mode": {"$ref": "#/types/x:index/Mode:Mode"}},
                "requiredInputs": [],
            }
        },
    }
    problems: list[sc.Problem] = []
    checker = sc._Checker(schema, "urn:x", problems)
    spec = schema["resources"]["x:index/thing:Thing"]
    checker.object("", spec["inputProperties"], [], {"mode": "c"})
    checker.object("", spec["inputProperties"], [], {"mode": "a"})
    assert [p.message for p in problems] == ["'c' is not one of ['a', 'b']"]


def test_a_mistyped_provider_config_is_caught(production_run):
    prov = _one(production_run, "pulumi:providers:postgresql")
    bad = _with_inputs(prov, port="not-a-port")
    (p,) = sc.validate([bad])
    assert p.path == "port" and "integer" in p.message


def test_a_resource_type_missing_from_the_schema_files_is_reported(production_run):
    app = _one(production_run, APP)
    (p,) = sc.validate([dataclasses.replace(app, type="heroku:app/webhook:Webhook")])
    assert "rerun scripts/extract_schemas.py" in p.message


def test_unknown_values_of_a_preview_are_not_type_errors(production_run):
    bad = _with_inputs(_one(production_run, GRANT), privileges=sc.UNKNOWN)
    assert sc.validate([bad]) == []


# ---- provider rules: controls ------------------------------------------------------------------
def _deploy_env(run: ProgramRun) -> Registration:
    return next(r for r in run.of_type(ENV) if r.inputs["environment"].endswith("-deploy"))


def test_prevent_self_review_without_reviewers_is_refused(production_run):
    bad = _with_inputs(
        _deploy_env(production_run), preventSelfReview=True, reviewers=dataclasses.MISSING
    )
    (p,) = sc.provider_rules([bad])
    assert p.path == "preventSelfReview" and "at least one reviewer" in p.message


def test_more_than_six_reviewers_is_refused(production_run):
    reviewers = [{"users": [1, 2, 3, 4], "teams": [5, 6, 7]}]
    bad = _with_inputs(_deploy_env(production_run), reviewers=reviewers, preventSelfReview=True)
    (p,) = sc.provider_rules([bad])
    assert p.path == "reviewers" and "at most 6" in p.message


def test_wait_timer_outside_its_range_is_refused(production_run):
    bad = _with_inputs(_deploy_env(production_run), waitTimer=43201)
    (p,) = sc.provider_rules([bad])
    assert p.path == "waitTimer"


def test_a_branch_policy_needs_exactly_one_pattern(production_run):
    policy = _one(production_run, sc.ENV_POLICY)
    both = _with_inputs(policy, tagPattern="v*")
    neither = _with_inputs(policy, branchPattern=dataclasses.MISSING)
    assert [p.path for p in sc.provider_rules([both, neither])] == ["branchPattern"] * 2


def test_a_branch_policy_on_an_environment_without_custom_policies_is_refused(production_run):
    env = _deploy_env(production_run)
    policy = next(
        p
        for p in production_run.of_type(sc.ENV_POLICY)
        if p.inputs["environment"] == env.inputs["environment"]
    )
    off = _with_inputs(
        env, deploymentBranchPolicy={"protectedBranches": True, "customBranchPolicies": False}
    )
    problems = sc.provider_rules([off, policy])
    assert [p.path for p in problems] == ["environment"]


def test_an_environment_secret_needs_exactly_one_value(production_run):
    secret = _one(production_run, sc.ENV_SECRET)
    two = _with_inputs(secret, valueEncrypted="AAAA")
    none = _with_inputs(secret, value=dataclasses.MISSING)
    assert [p.path for p in sc.provider_rules([two, none])] == ["value", "value"]


def test_production_without_reviewers_no_longer_sets_prevent_self_review(production_run):
    """The failure at `pulumi up -s production`: the committed stack has no reviewer ids."""
    env = _deploy_env(production_run)
    assert sc.reviewer_count(env.inputs) == 0
    assert env.inputs.get("preventSelfReview") in (None, False)


def test_production_with_reviewers_forbids_self_review(variant_runs):
    run = next(r for k, r in variant_runs.items() if "githubProductionReviewerUserIds" in k)
    env = _deploy_env(run)
    assert sc.reviewer_count(env.inputs) == 2 and env.inputs["preventSelfReview"] is True
    assert env.inputs["canAdminsBypass"] is False


# ---- the schema files themselves ---------------------------------------------------------------
@pytest.mark.parametrize("package", sc.PACKAGES)
def test_each_schema_file_records_its_source(package):
    src = SCHEMAS[package]["$source"]
    readme = (REPO / "schemas" / "README.md").read_text()
    assert src["repository"].startswith("https://github.com/") and f"{package}.json" in readme
    assert "commit" in src or src.get("sdk", "").endswith(version(src["sdk"].split("==")[0]))


@pytest.mark.parametrize("package", [p for p in sc.PACKAGES if "commit" in SCHEMAS[p]["$source"]])
def test_schema_agrees_with_the_pinned_sdk(package):
    """Schemas read at the nearest commit must match the pinned SDK's generated input types."""
    src = SCHEMAS[package]["$source"]
    name, pinned = src["pinnedSdk"].split("==")
    assert version(name) == pinned
    module = {"heroku": "pulumiverse_heroku"}.get(package, f"pulumi_{package}")
    sdk = _extractor().sdk_subset(package, module, set(SCHEMAS[package]["resources"]))
    for token, spec in SCHEMAS[package]["resources"].items():
        assert set(spec["inputProperties"]) == set(sdk["resources"][token]["inputProperties"]), (
            token
        )
        assert set(spec["requiredInputs"]) == set(sdk["resources"][token]["requiredInputs"]), token


@pytest.mark.parametrize(
    "account_id", ["mfb", "mfb-metabase-production-analytics", "Mfb-dbt", "mfb-dbt-"]
)
def test_a_service_account_id_gcp_refuses_is_caught(production_run, account_id):
    sa = _one(production_run, sc.SERVICE_ACCOUNT)
    (p,) = sc.provider_rules([_with_inputs(sa, accountId=account_id)])
    assert p.path == "accountId"


@pytest.mark.parametrize("pool_id", ["gh", "gcp-github", "GitHub", "x" * 33])
def test_a_workload_identity_pool_id_gcp_refuses_is_caught(production_run, pool_id):
    pool = _one(production_run, sc.WIF_POOL)
    (p,) = sc.provider_rules([_with_inputs(pool, workloadIdentityPoolId=pool_id)])
    assert p.path == "workloadIdentityPoolId"
