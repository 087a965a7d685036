"""The workflows run parity on every PR, and gate + preflight before every production `up`."""

from __future__ import annotations

from typing import Any

import yaml

from components.outputs import DEPLOY_COMMIT_ENV
from mfb_infra.program import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def runs(job: dict[str, Any]) -> list[str]:
    return [s.get("run", "") for s in job.get("steps", [])]


def up_step_index(job: dict[str, Any]) -> int:
    for i, s in enumerate(job["steps"]):
        if (
            str(s.get("uses", "")).startswith("pulumi/actions@")
            and s.get("with", {}).get("command") == "up"
        ):
            return i
    raise AssertionError("no pulumi up step")


def up_jobs() -> dict[str, dict[str, Any]]:
    jobs = load("pulumi-up.yml")["jobs"]
    return {j["environment"].removesuffix("-deploy"): j for j in jobs.values()
            if str(j.get("environment", "")).endswith("-deploy")}  # fmt: skip


def test_pull_requests_run_parity_without_secrets():
    jobs = load("pulumi-preview.yml")["jobs"]
    (job,) = [j for j in jobs.values() if any("mfb-infra parity" in r for r in runs(j))]
    assert "secrets." not in yaml.safe_dump(job) and "environment" not in job


def test_production_up_is_gated_on_staging_commit_and_parity_first():
    job = up_jobs()["production"]
    up = up_step_index(job)
    (gate,) = [i for i, r in enumerate(runs(job)) if "mfb-infra gate --stack production" in r]
    assert gate < up
    text = runs(job)[gate]
    assert '--commit "$GITHUB_SHA"' in text and "--staging-outputs" in text
    assert "pulumi stack output --json" in text and "/mfb-analytics/staging" in yaml.safe_dump(
        job["steps"][gate]
    )


def test_production_up_waits_for_preflight_against_its_database():
    jobs = load("pulumi-up.yml")["jobs"]
    job = up_jobs()["production"]
    pre = jobs[job["needs"]]
    assert pre["environment"] == "production"  # the data environment: the owner credential
    (step,) = [s for s in pre["steps"] if "mfb-infra preflight" in s.get("run", "")]
    assert "--stack production" in step["run"] and "--dsn" not in step["run"]
    assert step["env"]["PGPASSWORD"] == "${{ secrets.GLOBAL_DB_PASS }}"


def test_every_up_records_its_commit_and_attaches_the_runbook():
    for stack, job in up_jobs().items():
        up = job["steps"][up_step_index(job)]
        assert up["env"][DEPLOY_COMMIT_ENV] == "${{ github.sha }}", stack
        after = job["steps"][up_step_index(job) + 1 :]
        assert any(f"mfb-infra runbook --stack {stack}" in s.get("run", "") for s in after)
        assert any(
            str(s.get("uses", "")).startswith("actions/upload-artifact@")
            and s["with"]["name"] == f"runbook-{stack}"
            for s in after
        ), stack


def test_runbook_step_never_asks_for_secret_values():
    for job in up_jobs().values():
        for r in runs(job):
            assert "--show-secrets" not in r
