"""Benchmark: full dbt build vs incremental build after ~1 % new rows (prints figures).

    .venv/bin/python bench/bench_dbt_incremental.py --screens 1000000

Starts a throwaway PostgreSQL (mfb_infra.pgserver), loads sample data, runs
`dbt run --full-refresh` (timed), appends ~1 % new screens plus late updates, then runs the
incremental `dbt run` (timed) and prints the ratio, with per-model seconds from
run_results.json. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mfb_infra.dbt_runner import dbt_env_for_dsn, run_dbt  # noqa: E402
from mfb_infra.pgserver import PgServer  # noqa: E402
from mfb_infra.sample_data import TENANTS, load_sample_data  # noqa: E402

OWNER, OWNER_PW = "dbt_owner", "bench-owner-pw"


def _prepare(pg: PgServer, db: str) -> str:
    pg.create_database(db)
    roles = "".join(
        f"CREATE ROLE wl_{slug}_{wl}_ro LOGIN PASSWORD 'x';" for slug, wl, *_ in TENANTS
    )
    pg.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{OWNER}') THEN "
        f"CREATE ROLE {OWNER} LOGIN PASSWORD '{OWNER_PW}'; {roles} END IF; END $$;"
    )
    pg.execute(f"GRANT CREATE ON DATABASE {db} TO {OWNER}")
    return pg.dsn(db)


def _grant_sources(pg: PgServer, db: str) -> None:
    pg.execute(
        f"GRANT USAGE ON SCHEMA public TO {OWNER}; "
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {OWNER}",
        db,
    )


def _model_seconds(target_path: Path) -> dict[str, float]:
    results = json.loads((target_path / "run_results.json").read_text())
    return {
        r["unique_id"].rsplit(".", 1)[-1]: round(r["execution_time"], 2)
        for r in results["results"]
        if ".mart_" in r["unique_id"]
    }


def _timed_run(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, float]]:
    t0 = time.monotonic()
    run_dbt(args, env=env)
    return time.monotonic() - t0, _model_seconds(Path(env["DBT_TARGET_PATH"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--screens", type=int, default=1_000_000)
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="mfb-bench-") as tmp, PgServer.start(Path(tmp)) as pg:
        db = "bench"
        superuser_dsn = _prepare(pg, db)
        loaded = load_sample_data(superuser_dsn, args.screens, args.seed)
        _grant_sources(pg, db)
        print(f"load {args.screens} screens: {loaded['seconds']:.1f} s  rows: {loaded['rows']}")

        env = dbt_env_for_dsn(pg.dsn(db, OWNER, OWNER_PW))
        # own target/log dirs: the repo's dbt/target may be in use by another run
        env |= {"DBT_TARGET_PATH": f"{tmp}/target", "DBT_LOG_PATH": f"{tmp}/logs"}
        run_dbt(
            [
                "run",
                "--select",
                "path:models/postgres/staging",
                "path:models/postgres/intermediate",
            ],
            env=env,
        )
        full_s, full_models = _timed_run(["run", "--full-refresh"], env)
        print(f"full build (dbt run --full-refresh): {full_s:.1f} s  per mart: {full_models}")

        appended = load_sample_data(superuser_dsn, 0, args.seed, new_fraction=args.fraction)
        _grant_sources(pg, db)
        print(
            f"append {args.fraction:.0%}: {appended['seconds']:.1f} s  rows: {appended['rows']} "
            f"updates: {appended.get('updates')}"
        )

        inc_s, inc_models = _timed_run(["run"], env)
        print(f"incremental build (dbt run): {inc_s:.1f} s  per mart: {inc_models}")
        marts_full = sum(full_models.values())
        marts_inc = sum(inc_models.values())
        print(
            f"RESULT screens={args.screens} full={full_s:.1f}s incremental={inc_s:.1f}s "
            f"ratio={inc_s / full_s:.3f} (marts only: {marts_full:.1f}s vs {marts_inc:.1f}s, "
            f"ratio={marts_inc / marts_full:.3f}); load={loaded['seconds']:.1f}s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
