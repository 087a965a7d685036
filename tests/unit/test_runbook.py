"""`mfb-infra runbook`: every section, from stack outputs, and never a secret value."""

from __future__ import annotations

import json

import pytest

from mfb_infra import runbook
from mfb_infra.program import unwrap

LEAK = "pl41n-s3cret-"  # what `pulumi stack output --json --show-secrets` would print


@pytest.fixture(scope="module")
def programs(staging_run, production_run):
    runs = {"staging": staging_run, "production": production_run}
    return {s: runbook.outputs_of(r) for s, r in runs.items()}


def deployed_outputs(run) -> dict:
    """Outputs as `pulumi stack output --json --show-secrets` prints them: plain values, the
    secret ones included (replaced by recognisable fakes)."""
    out = unwrap(run.stack_outputs)
    out["deployedCommit"] = "3f2c9a1b7d4e5f60718293a4b5c6d7e8f9012345"
    if run.stack == "staging":  # shared mode: every tenant's username is the owner's (secret)
        out["tenantDbUsernames"] = {slug: f"{LEAK}owner" for slug in out["tenantRoles"]}
    out["someFutureOutput"] = f"{LEAK}unknown"  # exported by a newer program than this checkout
    return out


@pytest.fixture(params=["staging", "production"])
def rendered(request, programs, staging_run, production_run, tmp_path):
    run = {"staging": staging_run, "production": production_run}[request.param]
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(deployed_outputs(run)))
    text = runbook.build(request.param, path, program=lambda s: programs[s])
    return request.param, text


def test_runbook_has_every_section(rendered):
    _stack, text = rendered
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == list(runbook.SECTIONS)


def test_runbook_prints_no_secret_value(rendered):
    _stack, text = rendered
    assert LEAK not in text


def test_runbook_shows_what_is_deployed(rendered):
    stack, text = rendered
    assert "Deployed commit: `3f2c9a1b7d4e5f60718293a4b5c6d7e8f9012345`" in text
    assert f"mfb-metabase-{stack}" in text and "/api/health" in text
    assert "Metabase version: `v0.56.19`" in text


def test_runbook_lists_what_parity_allows(rendered):
    _stack, text = rendered
    assert "- config `herokuDynoSize` — dyno sizes" in text


def test_secret_outputs_are_known_from_the_program(programs):
    _outputs, staging_secret = programs["staging"]
    _outputs, production_secret = programs["production"]
    assert "tenantDbUsernames" in staging_secret  # the shared owner username
    assert "tenantDbUsernames" not in production_secret  # each tenant's own role name


def test_masking_is_what_keeps_the_secret_out(staging_run, programs):
    # control: without the program's knowledge the same file would leak
    known, _secret = programs["staging"]
    raw = deployed_outputs(staging_run)
    leaky, _unknown = runbook.mask_outputs(raw, set(), set(raw))
    text = runbook.render("staging", leaky, source="test", parity=runbook.parity_section())
    assert LEAK in text
    safe, unknown = runbook.mask_outputs(raw, _secret, set(known))
    assert unknown == ["someFutureOutput"]
    assert LEAK not in runbook.render("staging", safe, source="t", parity=runbook.parity_section())


def test_cli_renders_markdown_from_a_file(tmp_path, staging_run, programs, monkeypatch, capsys):
    path = tmp_path / "o.json"
    path.write_text(json.dumps(deployed_outputs(staging_run)))
    monkeypatch.setattr(runbook, "program_outputs", lambda s: programs[s])
    assert runbook.main(["--stack", "staging", "--outputs", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Runbook: `staging`") and LEAK not in out


def test_cli_refuses_a_file_that_is_not_stack_outputs(tmp_path, programs, monkeypatch, capsys):
    path = tmp_path / "o.json"
    path.write_text("[1, 2]")
    monkeypatch.setattr(runbook, "program_outputs", lambda s: programs[s])
    assert runbook.main(["--stack", "staging", "--outputs", str(path)]) == 2
    assert "pulumi stack output --json" in capsys.readouterr().err
