"""Run the repo's dbt project (`dbt/`) as a subprocess with an explicit environment.

    env = dbt_env_for_dsn("postgresql://dbt:pw@127.0.0.1:5432/app")
    run_dbt(["build"], env=env)

The `dbt` executable is the one installed next to the running interpreter (the project's
virtualenv), so the pinned dbt-core/adapters are used, not whatever is on PATH. `target/` and
`logs/` stay inside the project directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt"
OUTPUT_TAIL_LINES = 60


class DbtError(RuntimeError):
    """dbt exited non-zero; `result` holds the completed process."""

    def __init__(self, args: Sequence[str], result: subprocess.CompletedProcess):
        self.result = result
        output = (result.stdout or "") + (result.stderr or "")
        tail = "\n".join(output.strip().splitlines()[-OUTPUT_TAIL_LINES:])
        super().__init__(
            f"`dbt {' '.join(args)}` failed with exit code {result.returncode}. "
            f"Last lines of its output:\n{tail}"
        )


def dbt_executable() -> Path:
    """The `dbt` script installed alongside sys.executable."""
    candidate = Path(sys.executable).parent / ("dbt.exe" if os.name == "nt" else "dbt")
    if not candidate.exists():
        raise FileNotFoundError(
            f"dbt is not installed in this environment ({candidate} missing). Install the dbt "
            "extras, e.g. `pip install 'dbt-core~=1.10.0' 'dbt-postgres~=1.9.0' "
            "'dbt-bigquery~=1.10.0' 'dbt-adapters<1.24'`."
        )
    return candidate


def run_dbt(
    args: list[str],
    *,
    env: Mapping[str, str],
    project_dir: Path | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess:
    """Run `dbt <args> --project-dir <dbt/> --profiles-dir <dbt/>` and capture its output.

    `env` is layered over the current environment (PATH, HOME, ... are kept). Raises DbtError
    with the tail of dbt's output when it fails (unless check=False).
    """
    project = Path(project_dir) if project_dir else DBT_PROJECT_DIR
    if not (project / "dbt_project.yml").exists():
        raise FileNotFoundError(f"no dbt_project.yml in {project}")
    cmd = [
        str(dbt_executable()),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
    ]
    full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}
    result = subprocess.run(
        cmd,
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise DbtError(args, result)
    return result


def dbt_env_for_dsn(dsn: str, schema: str = "analytics") -> dict[str, str]:
    """The DB_* variables of profiles.yml for a libpq connection string (URI or key=value).

    Parsed with libpq's rules (mfb_infra.conninfo): host/port given as URI query parameters and a
    unix-socket directory as host reach dbt as they are (dbt-postgres hands `host` to libpq, which
    takes a path as a socket directory).
    """
    from mfb_infra import conninfo

    params = conninfo.parse(dsn)
    if not params.get("user") or not params.get("dbname"):
        raise ValueError(
            "the DSN needs a user and a database name: postgresql://user@host/db or "
            "'host=... user=... dbname=...'"
        )
    host, port = conninfo.endpoint(dsn)
    return {
        "DB_HOST": host,
        "DB_PORT": port,
        "DB_USER": params["user"],
        "DB_PASS": params.get("password", ""),
        "DB_NAME": params["dbname"],
        "DB_SCHEMA": schema,
        "DB_SSLMODE": params.get("sslmode") or os.environ.get("PGSSLMODE") or "prefer",
        "DBT_TARGET": "postgres",
    }
