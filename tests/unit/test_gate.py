"""The promotion gate: production gets only a commit staging already runs (and parity holds)."""

from __future__ import annotations

import json

import pytest

from components.outputs import DEPLOY_COMMIT_ENV, deploy_commit
from mfb_infra import gate, parity
from mfb_infra.program import run_program

SHA = "3f2c9a1b7d4e5f60718293a4b5c6d7e8f9012345"
OTHER = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"


def staging_outputs(**changes):
    out = {"environment": "staging", "deployedCommit": SHA, "metabaseVersion": "v0.56.19"}
    out.update(changes)
    return out


class _Report:
    def __init__(self, ok: bool):
        self.ok = ok

    def format(self) -> str:
        return "parity FAILED: 1 undeclared difference(s)\n  - [config] mfb-analytics:x: differs\n"


def test_allows_the_commit_staging_runs():
    assert gate.check_promotion("production", staging_outputs(), SHA) == []


def test_refuses_a_commit_staging_does_not_run():
    (reason,) = gate.check_promotion("production", staging_outputs(deployedCommit=OTHER), SHA)
    assert f"staging runs {OTHER}, not {SHA}" in reason
    assert "Deploy" in reason and "to staging first" in reason


def test_compares_full_shas_case_insensitively():
    assert gate.check_promotion("production", staging_outputs(), SHA.upper()) == []


def test_refuses_when_staging_recorded_no_commit():
    (reason,) = gate.check_promotion("production", staging_outputs(deployedCommit=""), SHA)
    assert "records no deployed commit" in reason


def test_refuses_outputs_of_another_stack():
    reasons = gate.check_promotion("production", staging_outputs(environment="production"), SHA)
    assert any("not the staging stack's" in r for r in reasons)


def test_refuses_when_staging_runs_another_metabase_version():
    (reason,) = gate.check_promotion("production", staging_outputs(metabaseVersion="v0.55.1"), SHA)
    assert "Metabase v0.55.1" in reason and "v0.56.19" in reason


def test_refuses_when_parity_fails():
    (reason,) = gate.check_promotion(
        "production", staging_outputs(), SHA, parity=lambda: _Report(ok=False)
    )
    assert reason.startswith("parity fails") and "mfb-analytics:x" in reason


def test_short_sha_is_a_usage_error():
    with pytest.raises(gate.GateUsageError, match="full 40-character"):
        gate.check_promotion("production", staging_outputs(), SHA[:7])


def test_cli_refuses_with_exit_1_and_says_why(tmp_path, monkeypatch, capsys):
    path = tmp_path / "staging.json"
    path.write_text(json.dumps(staging_outputs(deployedCommit=OTHER)))
    monkeypatch.setattr(parity, "check", lambda: _Report(ok=True))
    code = gate.main(["--stack", "production", "--staging-outputs", str(path), "--commit", SHA])
    err = capsys.readouterr().err
    assert code == 1
    assert f"REFUSED: not deploying production at {SHA}" in err and OTHER in err


def test_cli_allows_with_exit_0(tmp_path, monkeypatch, capsys):
    path = tmp_path / "staging.json"
    path.write_text(json.dumps(staging_outputs()))
    monkeypatch.setattr(parity, "check", lambda: _Report(ok=True))
    code = gate.main(["--stack", "production", "--staging-outputs", str(path), "--commit", SHA])
    assert code == 0 and "gate OK" in capsys.readouterr().out


# ------------------------------------------------------------------------------ deployedCommit
def test_deploy_commit_comes_from_the_workflow_environment():
    assert deploy_commit({DEPLOY_COMMIT_ENV: SHA.upper()}) == SHA
    assert deploy_commit({}) == ""


def test_deploy_commit_refuses_a_value_that_is_not_a_sha():
    with pytest.raises(ValueError, match=DEPLOY_COMMIT_ENV):
        deploy_commit({DEPLOY_COMMIT_ENV: "main"})


def test_both_stacks_export_the_deployed_commit(stack_run):
    assert stack_run.stack_outputs["deployedCommit"] == ""


def test_snapshot_does_not_depend_on_the_deploy_commit(monkeypatch, staging_run):
    # the variable is set in the `up` step only; under mocks the program never sees it, so
    # snapshots and parity are the same on every commit and machine
    monkeypatch.setenv(DEPLOY_COMMIT_ENV, SHA)
    run = run_program("staging")
    assert run.stack_outputs["deployedCommit"] == ""
    assert run.stack_outputs == staging_run.stack_outputs
    assert deploy_commit() == SHA  # control: the variable was visible outside the program
