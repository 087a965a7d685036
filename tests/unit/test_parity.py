"""`mfb-infra parity`: the committed stacks pass; every undeclared divergence is named."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from mfb_infra import parity
from mfb_infra.program import REPO, project_declarations, run_program
from mfb_infra.snapshot import desired_state

SCHEMA = Path(__file__).parent / "data" / "pulumi-project.schema.json"
P = "mfb-analytics"


@pytest.fixture(scope="module")
def states(staging_run, production_run):
    return {"staging": desired_state(staging_run), "production": desired_state(production_run)}


@pytest.fixture(scope="module")
def rules():
    return parity.load_rules()


def stack_files():
    return {s: parity._stack_doc(s, REPO) for s in parity.STACKS}


def defaults():
    return {k: d.get("default") for k, d in project_declarations().items() if "default" in d}


def report_for(rules, states, files=None) -> parity.ParityReport:
    files = files or stack_files()
    report = parity.ParityReport(stacks=rules.stacks)
    parity.compare_config(files, rules, defaults(), report)
    parity.compare_states(states, files, rules, report, defaults())
    return report


def subjects(report: parity.ParityReport) -> dict[str, str]:
    return {f.subject: f.message for f in report.differences}


def dashboard_label(state, scope: str) -> str:
    for r in state["resources"]:
        if r["type"].endswith(":Dashboard") and r["name"].endswith(f"-{scope}-main"):
            return f"{r['type']}::{r['name']}"
    names = [r["name"] for r in state["resources"] if r["type"].endswith(":Dashboard")]
    raise AssertionError(f"no dashboard for {scope}: {names}")


# ------------------------------------------------------------------------------ the section
def test_pulumi_yaml_with_the_parity_section_is_a_valid_pulumi_project():
    # the Pulumi CLI validates Pulumi.yaml against this schema (pulumi/pulumi
    # sdk/go/common/workspace/project.json at 1b5949891b3c, vendored) before running anything
    doc = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    assert "parity" in doc
    assert [e.message for e in validator.iter_errors(doc)] == []


def test_the_schema_check_rejects_the_section_under_config():
    # control: under `config:` every entry must be a config declaration, so it would be refused
    doc = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    doc["config"] = {**doc["config"], "parity": doc.pop("parity")}
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    assert list(validator.iter_errors(doc))


def test_a_parity_key_that_is_not_a_config_key_is_refused(tmp_path):
    doc = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    doc["parity"]["config"]["herokuDynoSizes"] = "typo"
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(parity.ParityError, match=r"parity\.config\.herokuDynoSizes"):
        parity.load_rules(tmp_path)


def test_a_rule_needs_exactly_one_of_only_in_and_inputs(tmp_path):
    doc = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    doc["parity"]["resources"].append(
        {"type": "x", "reason": "r", "only_in": "staging", "inputs": ["a"]}
    )
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(parity.ParityError, match="exactly one of"):
        parity.load_rules(tmp_path)


# ------------------------------------------------------------------------------ committed stacks
def test_parity_holds_for_the_committed_stacks(rules, states):
    report = report_for(rules, states)
    assert report.ok, report.format()
    assert report.unused_rules == [], "every declared resource difference is in use"


def test_every_declared_difference_is_listed_with_its_reason(rules, states):
    text = report_for(rules, states).format()
    assert "config mfb-analytics:herokuAppName — app names" in text
    assert "only in staging — the staging stack owns the Heroku pipeline" in text


# ------------------------------------------------------------------------------ stack files
def test_config_key_in_one_stack_only_is_named(rules, states):
    files = stack_files()
    files["production"][f"{P}:metabaseSyncTimeoutSeconds"] = 3600
    msg = subjects(report_for(rules, states, files))[f"{P}:metabaseSyncTimeoutSeconds"]
    assert "set in production only" in msg and "default 2700" in msg


def test_different_metabase_version_is_named(rules, states):
    files = stack_files()
    files["production"][f"{P}:metabaseVersion"] = "v0.56.20"
    msg = subjects(report_for(rules, states, files))[f"{P}:metabaseVersion"]
    assert "'v0.56.19'" in msg and "'v0.56.20'" in msg


def test_tenant_in_one_stack_only_is_named_by_slug(rules, states):
    files = stack_files()
    files["staging"][f"{P}:tenants"] = [
        *files["staging"][f"{P}:tenants"],
        {"slug": "ak", "whiteLabelId": 77},
    ]
    msg = subjects(report_for(rules, states, files))[f"{P}:tenants[ak]"]
    assert msg.startswith("tenant in staging only")


def test_secret_set_in_one_stack_only_is_named(rules, states):
    files = stack_files()
    files["production"][f"{P}:tfeToken"] = {"secure": "v1:AAAA"}
    msg = subjects(report_for(rules, states, files))[f"{P}:tfeToken"]
    assert "secret set in production only" in msg and "AAAA" not in msg


def test_declared_config_key_may_differ(rules, states):
    files = stack_files()
    files["production"][f"{P}:herokuDynoSize"] = "performance-m"
    report = report_for(rules, states, files)
    assert report.ok, report.format()


# ------------------------------------------------------------------------------ desired states
def test_dashboard_in_one_stack_only_is_named(rules, states):
    changed = copy.deepcopy(states)
    label = dashboard_label(changed["production"], "nc")
    changed["production"]["resources"] = [
        r for r in changed["production"]["resources"] if f"{r['type']}::{r['name']}" != label
    ]
    assert (
        subjects(report_for(rules, changed))[label]
        == "dashboard in staging only (not in production)"
    )


def test_resource_type_in_one_stack_only_is_named(rules, states):
    changed = copy.deepcopy(states)
    extra = dict(changed["production"]["resources"][0])
    extra.update(type="heroku:drain/drain:Drain", name="log-drain", inputs={"url": "x"})
    changed["production"]["resources"].append(extra)
    msg = subjects(report_for(rules, changed))["heroku:drain/drain:Drain::log-drain"]
    assert msg == "resource type in production only (not in staging)"


def test_undeclared_input_difference_is_named_with_both_values(rules, states):
    changed = copy.deepcopy(states)
    card = next(r for r in changed["production"]["resources"] if r["type"].endswith(":Card"))
    card["inputs"]["display"] = "pie"
    msg = subjects(report_for(rules, changed))[f"{card['type']}::{card['name']}"]
    assert msg.startswith("display differs") and "'pie'" in msg


def test_stack_output_in_one_stack_only_is_named(rules, states):
    changed = copy.deepcopy(states)
    changed["staging"]["outputs"]["debugUrl"] = "https://x"
    assert subjects(report_for(rules, changed))["debugUrl"] == "stack output in staging only"


def test_tenant_in_one_stack_only_shows_in_the_desired_state_too(rules, states, production_run):
    # the real program with one more production tenant: its resources are named one by one
    tenants = yaml.safe_load((REPO / "Pulumi.production.yaml").read_text())["config"][
        f"{P}:tenants"
    ]
    run = run_program(
        "production", overrides={"tenants": [*tenants, {"slug": "ak", "whiteLabelId": 77}]}
    )
    changed = {**states, "production": desired_state(run)}
    found = subjects(report_for(rules, changed))
    assert any("-ak-" in s and "Dashboard" in s for s in found), sorted(found)
    assert any(s.endswith("metabase-content-db-ak-postgres") for s in found), sorted(found)


def test_environment_names_are_not_reported_as_differences(rules, states):
    # control for the normalisation: the committed stacks name resources per environment
    # (mfb-metabase-staging / -production); without the placeholders these would all be reported
    labels = {s: {f"{r['type']}::{r['name']}" for r in states[s]["resources"]} for s in states}
    assert "heroku:app/app:App::mfb-metabase-staging" in labels["staging"]
    assert "heroku:app/app:App::mfb-metabase-production" in labels["production"]
    assert report_for(rules, states).ok


def test_cli_exits_1_and_names_the_key(monkeypatch, tmp_path, states, capsys):
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"):
        (tmp_path / name).write_text((REPO / name).read_text())
    prod = yaml.safe_load((tmp_path / "Pulumi.production.yaml").read_text())
    prod["config"][f"{P}:metabaseVersion"] = "v0.57.1"
    (tmp_path / "Pulumi.production.yaml").write_text(yaml.safe_dump(prod))
    real_check = parity.check
    monkeypatch.setattr(parity, "check", lambda: real_check(tmp_path, states=states))
    assert parity.main([]) == 1
    out = capsys.readouterr().out
    assert "parity FAILED" in out and f"{P}:metabaseVersion" in out


def test_cli_exits_0_on_the_committed_stacks(monkeypatch, states, capsys):
    real_check = parity.check
    monkeypatch.setattr(parity, "check", lambda: real_check(states=states))
    assert parity.main([]) == 0
    assert "parity OK" in capsys.readouterr().out
