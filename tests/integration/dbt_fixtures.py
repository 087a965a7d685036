"""Helpers for the dbt integration tests: a dbt owner role, tenant roles, runs, mart snapshots."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from mfb_infra.dbt_runner import DBT_PROJECT_DIR, dbt_env_for_dsn, run_dbt
from mfb_infra.pgserver import PgServer
from mfb_infra.sample_data import TENANTS, load_sample_data

OWNER = "dbt_owner"
OWNER_PW = "owner-test-pw"  # test-only credential of a throwaway server
TENANT_PW = "tenant-test-pw"
TENANT_ROLES = {f"wl_{slug}_{wl}_ro": wl for slug, wl, *_ in TENANTS}
TENANT_ROLE_RE = re.compile(r"^wl_([a-z][a-z_]*)_([0-9]+)_ro$")
MART_SCHEMA = "analytics"


def ensure_roles(pg: PgServer) -> None:
    """Cluster-wide roles: the dbt owner (no superuser, so RLS rules apply to others only)."""
    for role, password in [(OWNER, OWNER_PW), *((r, TENANT_PW) for r in TENANT_ROLES)]:
        pg.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} LOGIN PASSWORD '{password}'; END IF; END $$"
        )


def grant_sources(pg: PgServer, db: str) -> None:
    pg.execute(f"GRANT CREATE ON DATABASE {db} TO {OWNER}")
    pg.execute(
        f"GRANT USAGE ON SCHEMA public TO {OWNER}; "
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {OWNER}",
        db,
    )


def grant_tenant_usage(pg: PgServer, db: str, roles: list[str]) -> None:
    """What Pulumi grants tenants on the mart schema: USAGE only (SELECT comes per mart, from
    dbt's post-hook, with its row level security)."""
    pg.execute(f"GRANT USAGE ON SCHEMA {MART_SCHEMA} TO {', '.join(roles)}", db)


def grant_tenant_select(pg: PgServer, db: str, roles: list[str]) -> None:
    """USAGE + SELECT on every table of the mart schema (an outsider probe, or the old plan)."""
    names = ", ".join(roles)
    pg.execute(
        f"GRANT USAGE ON SCHEMA {MART_SCHEMA} TO {names}; "
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {MART_SCHEMA} TO {names}",
        db,
    )


@dataclass
class DbtDb:
    """A loaded database plus the env to run dbt against it as the owner."""

    pg: PgServer
    db: str
    env: dict[str, str]

    def run(
        self,
        args: list[str],
        *,
        check: bool = True,
        project_dir: Path | None = None,
        timeout: float | None = None,
    ):
        return run_dbt(args, env=self.env, check=check, project_dir=project_dir, timeout=timeout)

    def rows(self, sql: str, user: str | None = None, password: str | None = None) -> list[tuple]:
        if user is None:
            return self.pg.execute(sql, self.db)
        return self.pg.execute(sql, self.db, user, password)

    def run_results(self) -> dict[str, dict]:
        path = Path(self.env["DBT_TARGET_PATH"]) / "run_results.json"
        results = json.loads(path.read_text())["results"]
        return {r["unique_id"]: r for r in results}


def prepare_db(pg: PgServer, db: str, screens: int, work: Path, seed: int = 7) -> DbtDb:
    """Roles, sample data and dbt env (own target/log dirs under `work`)."""
    ensure_roles(pg)
    load_sample_data(pg.dsn(db), screens, seed)
    grant_sources(pg, db)
    env = dbt_env_for_dsn(pg.dsn(db, OWNER, OWNER_PW))
    env |= {
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_THREADS": "4",
    }
    return DbtDb(pg=pg, db=db, env=env)


def postgres_mart_names() -> list[str]:
    """Mart model names, read from the project tree (the source of truth for the tests)."""
    marts = DBT_PROJECT_DIR / "models" / "postgres" / "marts"
    return sorted(p.stem for p in marts.glob("*.sql"))


def copy_project(dest: Path) -> Path:
    """A scratch copy of the dbt project, so a test can add models without touching the repo."""
    shutil.copytree(
        DBT_PROJECT_DIR, dest, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    return dest


def snapshot_marts(dbdb: DbtDb, schema: str) -> None:
    """Copy every analytics mart into `schema` (for comparing two builds)."""
    dbdb.rows(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    for name in postgres_mart_names():
        dbdb.rows(f"CREATE TABLE {schema}.{name} AS TABLE {MART_SCHEMA}.{name}")


def diff_counts(dbdb: DbtDb, left: str, right: str, table: str) -> tuple[int, int]:
    """Rows in left-not-right and right-not-left (multiset difference)."""
    (a,) = dbdb.rows(
        f"SELECT count(*) FROM (TABLE {left}.{table} EXCEPT ALL TABLE {right}.{table}) x"
    )[0]
    (b,) = dbdb.rows(
        f"SELECT count(*) FROM (TABLE {right}.{table} EXCEPT ALL TABLE {left}.{table}) x"
    )[0]
    return a, b
