"""Benchmark: `mfb-infra preview` of the whole production stack (BigQuery on) in one run.

    .venv/bin/python bench/bench_preview.py [--screens N] [--repeat K]

Builds the local database first (`mfb-infra local up` into a throwaway directory; not timed as
part of the preview), then renders every production dashboard K times and prints, per run: wall
time, the part spent building the GA4 marts in DuckDB, the time per card (mean, p95, max by
engine), and the ratio of the preview's wall time to the one-minute goal.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mfb_infra import local, preview
from mfb_infra.pgserver import PgServer

GOAL_SECONDS = 60.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--screens", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from psycopg.conninfo import make_conninfo

    with tempfile.TemporaryDirectory(prefix="mfb-bench-preview-") as tmp:
        server = PgServer.start(Path(tmp) / "pg")
        try:
            t = time.perf_counter()
            res = local.up(
                dsn=server.dsn("postgres"), screens=args.screens, root=Path(tmp) / "local",
                say=lambda _m: None,
            )  # fmt: skip
            print(f"database build (not part of the preview): {time.perf_counter() - t:.1f} s, "
                  f"{args.screens} screens, isolation ok={res.ok}")  # fmt: skip
            dsn = make_conninfo(server.dsn("postgres"), dbname=res.dbname)
            for run in range(args.repeat):
                bq_seconds: list[float] = []

                def bq_factory(bq_seconds=bq_seconds):
                    from mfb_infra.ga4_fixture import GA4_EVENTS, sample_events
                    from mfb_infra.ga4_local import Ga4DuckDB, compile_bigquery_cached

                    t0 = time.perf_counter()
                    plan = preview.plan_for_stack("production", bigquery=True)
                    states = tuple(dict.fromkeys(c for s in plan.scopes for c in s.state_codes))
                    # run 1 compiles the BigQuery tree (cold cache), later runs reuse it
                    compiled = compile_bigquery_cached(Path(tmp) / "ga4-compiled")
                    db = Ga4DuckDB.build([*GA4_EVENTS, *sample_events(states)], compiled=compiled)
                    bq_seconds.append(time.perf_counter() - t0)
                    return db

                out = Path(tmp) / f"site{run}"
                report = preview.build(
                    "production", out, dsn=dsn, bigquery=True, bq_factory=bq_factory,
                    say=lambda _m: None,
                )  # fmt: skip
                per_engine: dict[str, list[float]] = {}
                for engine, secs in report.card_seconds:
                    per_engine.setdefault(engine, []).append(secs)
                print(
                    f"run {run + 1}: {len(report.pages)} dashboards, {report.cards} dashcards, "
                    f"{sum(len(v) for v in per_engine.values())} distinct cards, "
                    f"wall {report.seconds:.1f} s (GA4 marts in DuckDB "
                    f"{sum(bq_seconds):.1f} s), failed {len(report.failed)}; "
                    f"wall / goal ({GOAL_SECONDS:.0f} s) = {report.seconds / GOAL_SECONDS:.2f}"
                )
                for engine, secs in sorted(per_engine.items()):
                    secs.sort()
                    p95 = secs[max(0, int(len(secs) * 0.95) - 1)]
                    mean_ms = statistics.mean(secs) * 1000
                    print(
                        f"  {engine:8s} {len(secs):4d} cards: mean {mean_ms:.1f}"
                        f" ms, p95 {p95 * 1000:.1f} ms, max {secs[-1] * 1000:.1f} ms, "
                        f"sum {sum(secs):.1f} s"
                    )
                per = report.seconds / report.cards * 1000
                print(f"  per dashcard (wall / dashcards): {per:.1f} ms")
        finally:
            server.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
