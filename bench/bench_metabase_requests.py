"""Requests per operation and convergence under faults: production's whole Metabase content,
through Pulumi's real dynamic-provider host.

The content is what the program registers for the production stack (global + 8 tenants; BigQuery
on unless ``--no-bigquery``), taken from ``mfb_infra.program.run_program`` (see
tests/provider/production.py). Every operation starts its own ``python -m pulumi.dynamic``
process, configured once with the stack config, and talks gRPC to it (tests/provider/host.py),
against the in-process Metabase double. Printed, side by side from one run:

- HTTP requests the double received (all, and writes) and wall time for: the first ``up`` (create
  everything), a no-op ``up``, ``refresh``, ``preview`` after it, and an ``up`` changing one
  card's SQL;
- under ``--fault-rate`` injected faults (502 before processing, 502 after processing, response
  dropped after processing): ``up`` runs until one succeeds (mean/max over ``--seeds``), then
  whether a fault-free ``up`` writes nothing, and duplicate objects of any kind left behind.

    .venv/bin/python bench/bench_metabase_requests.py [--seeds 10] [--fault-rate 0.2]
        [--no-bigquery] [--attempts 5] [--max-runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "provider")]

from host import HostEngine, RunResult  # noqa: E402
from production import (  # noqa: E402
    Content,
    duplicates,
    errors_of,
    operate,
    production_content,
    start_double,
    writes,
)


def one_card_changed(content: Content) -> tuple[Content, str]:
    """The same program with one card's SQL edited (a trailing comment line)."""
    resources = list(content.resources)
    for i, d in enumerate(resources):
        if ":Card::" in d.urn and isinstance(d.inputs.get("sql"), str):
            edited = {**d.inputs, "sql": d.inputs["sql"] + "\n-- edited"}
            resources[i] = replace(d, inputs=edited)
            return replace(content, resources=resources), d.urn
    raise AssertionError("the program registers no native-SQL card")


def measure_operations(content_base: Content) -> tuple[list[tuple[str, RunResult, int, int]], bool]:
    double = start_double(content_base)
    content = content_base.for_url(double.url)
    engine = HostEngine()
    rows = []
    changed, card = one_card_changed(content)
    steps = [
        ("create everything (up)", lambda e: e.up(content.resources)),
        ("no-op up", lambda e: e.up(content.resources)),
        ("refresh", lambda e: e.refresh()),
        ("preview after refresh", lambda e: e.preview(content.resources)),
        ("one card's SQL changed (up)", lambda e: e.up(changed.resources)),
    ]
    ok = True
    try:
        for label, op in steps:
            double.reset_counts()
            result = operate(engine, content, op)
            rows.append((label, result, len(double.requests), len(writes(double))))
            if not result.ok:
                ok = False
                print(f"  {label} FAILED: {errors_of(result)}", file=sys.stderr)
                break
        if ok:
            last = rows[-1][1]
            ok = last.changed() == [card] and rows[1][1].changed() == []
        return rows, ok
    finally:
        double.stop()


def measure_convergence(
    content_base: Content, seed: int, rate: float, max_runs: int, attempts: int
) -> tuple[int, Counter, bool, Counter, float]:
    """(ups until one succeeded, duplicates, fault-free up wrote nothing, faults, seconds)."""
    double = start_double(content_base, rate, seed)
    content = content_base.for_url(double.url)
    engine = HostEngine()
    seconds = 0.0
    env = {"MFB_METABASE_RETRY": f"attempts={attempts},backoff=0.002,max_backoff=0.01,timeout=10"}
    try:
        runs = max_runs + 1
        for run in range(1, max_runs + 1):
            result = operate(engine, content, lambda e: e.up(content.resources), env)
            seconds += result.seconds
            if result.ok:
                runs = run
                break
        injected = Counter(double.faults.injected)
        double.faults.rate = 0.0
        double.reset_counts()
        noop = operate(engine, content, lambda e: e.up(content.resources))
        clean = noop.ok and noop.changed() == [] and writes(double) == []
        return runs, duplicates(double), clean, injected, seconds
    finally:
        double.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--max-runs", type=int, default=5)
    parser.add_argument("--no-bigquery", action="store_true", help="gcpBigqueryEnabled=false")
    parser.add_argument(
        "--attempts",
        type=int,
        default=5,
        help="client retry attempts under faults (5 = production; fewer leaves more to later ups)",
    )
    args = parser.parse_args(argv)

    content = production_content(bigquery=not args.no_bigquery)
    kinds = content.kinds()
    n = len(content.resources)
    print(
        f"production Metabase content: {n} resources "
        f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
        f"BigQuery {'off' if args.no_bigquery else 'on'}"
    )
    rows, ops_ok = measure_operations(content)
    print("\nthrough python -m pulumi.dynamic (one host process per operation):")
    print(f"  {'operation':<30} {'requests':>8} {'writes':>7} {'req/res':>8} {'wall s':>7}  ops")
    for label, result, requests, n_writes in rows:
        ops = dict(result.counts())
        print(
            f"  {label:<30} {requests:>8} {n_writes:>7} {requests / n:>8.2f} "
            f"{result.seconds:>7.2f}  {ops}{'' if result.ok else '  FAILED'}"
        )

    runs, dup_total, unclean, injected, secs = [], Counter(), 0, Counter(), []
    for seed in range(1, args.seeds + 1):
        r, dups, clean, inj, s = measure_convergence(
            content, seed, args.fault_rate, args.max_runs, args.attempts
        )
        runs.append(r)
        dup_total.update(dups)
        unclean += 0 if clean else 1
        injected.update(inj)
        secs.append(s)
    print(
        f"\nunder {args.fault_rate:.0%} injected faults ({args.seeds} seeds, client retry "
        f"attempts={args.attempts}{' as in production' if args.attempts == 5 else ''}):"
    )
    print(
        f"  ups until one succeeds     mean {statistics.mean(runs):.2f}  max {max(runs)}"
        f"  (>{args.max_runs} = never)  first-up success {runs.count(1)}/{len(runs)}"
    )
    print(f"  wall time of those ups     mean {statistics.mean(secs):.2f}s  max {max(secs):.2f}s")
    print(f"  fault-free up afterwards   wrote something in {unclean}/{len(runs)} seeds")
    print(f"  duplicates left            {sum(dup_total.values())} {dict(dup_total)}")
    print(f"  faults injected            {dict(injected)}")
    good = ops_ok and not dup_total and not unclean and (max(runs) <= 3 or args.attempts < 5)
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
