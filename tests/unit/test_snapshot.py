"""`mfb-infra snapshot`: deterministic desired state, secrets masked, leaks refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mfb_infra.program import PLACEHOLDER_PREFIX, REPO, ProgramRun, Registration
from mfb_infra.snapshot import SECRET_MASK, SecretLeak, desired_state


def _snapshot(stack: str, hashseed: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    return subprocess.run(
        [sys.executable, "-m", "mfb_infra.cli", "snapshot", "--stack", stack, "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_snapshot_is_identical_across_processes(stack):
    first, second = _snapshot(stack, "1"), _snapshot(stack, "2")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_snapshot_never_prints_a_placeholder_secret(stack):
    out = _snapshot(stack, "0")
    assert out.returncode == 0, out.stderr
    assert PLACEHOLDER_PREFIX not in out.stdout


def test_snapshot_masks_secret_inputs(production_run):
    state = desired_state(production_run)
    text = json.dumps(state)
    secret_inputs = [
        r for r in production_run.registrations if PLACEHOLDER_PREFIX in json.dumps(r.inputs)
    ]
    assert secret_inputs == [] or SECRET_MASK in text


def test_snapshot_refuses_a_secret_in_plain_text(staging_run):
    leaked = f"{PLACEHOLDER_PREFIX}databaseAdminPassword"
    reg = Registration(
        urn="urn:pulumi:staging::mfb-analytics::mfb:x:Y$t:r::leaky",
        type="t:r",
        name="leaky",
        custom=True,
        inputs={"password": leaked},
        parent=None,
        protect=False,
        retain_on_delete=False,
        dependencies=[],
        property_dependencies={},
        provider=None,
        additional_secret_outputs=[],
        delete_before_replace=False,
        ignore_changes=[],
    )
    run = ProgramRun("staging", [*staging_run.registrations, reg], {}, [])
    with pytest.raises(SecretLeak) as info:
        desired_state(run)
    assert "leaky" in str(info.value)


def test_snapshot_of_unknown_stack_fails_with_the_known_ones():
    out = _snapshot("nope", "0")
    assert out.returncode == 2 and "staging" in out.stderr
