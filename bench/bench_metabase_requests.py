"""HTTP requests per operation, and convergence under injected faults, for the Metabase provider.

Runs a representative stack (setup, 2 databases, 3 collections, 12 cards, 2 tabbed dashboards,
3 groups, both permission graphs) against the in-process Metabase double, driving the providers
as the engine would (tests/provider/harness.py), and prints:

- requests the double received for: create all, a no-op ``up`` (check + diff), refresh (read all),
  and changing one card's SQL;
- under a 20 % fault rate (502 before/after processing, dropped connections): ``up`` runs needed
  until everything converged (a later no-op run changes nothing), and duplicates left behind.

    .venv/bin/python bench/bench_metabase_requests.py [--seeds 20] [--fault-rate 0.2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "provider")]

from harness import Engine  # noqa: E402
from metabase_double import MetabaseDouble  # noqa: E402

from components.metabase.card import CardProvider  # noqa: E402
from components.metabase.client import RetryPolicy, set_default_policy  # noqa: E402
from components.metabase.collection import CollectionProvider  # noqa: E402
from components.metabase.dashboard import DashboardProvider  # noqa: E402
from components.metabase.database import DatabaseProvider  # noqa: E402
from components.metabase.permissions import (  # noqa: E402
    PermissionsGraphProvider,
    PermissionsGroupProvider,
)
from components.metabase.setup import SetupProvider  # noqa: E402

EMAIL, PASSWORD = "admin@mfb.test", "Xq7-long-enough-pass!"
TENANTS = ("North Carolina", "Colorado")
CARDS_PER_TENANT = 6
Step = tuple[str, Any, Callable[[Engine], dict[str, Any]]]


def outs(engine: Engine, name: str, key: str) -> int:
    return int(engine.state[name].outs[key])


def stack(sql_suffix: str = "") -> list[Step]:
    """The declared program, in dependency order; inputs may read earlier outputs."""
    steps: list[Step] = [("setup", SetupProvider(), lambda e: {"health_interval_seconds": 0.01})]
    steps.append(("coll-global", CollectionProvider(), lambda e: {"name": "Global"}))
    for t in TENANTS:
        pg = {
            "host": "pg.example.org",
            "port": 5432,
            "dbname": "mfb",
            "user": f"wl_{t[:2]}_ro",
            "ssl": True,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": "analytics",
        }
        steps.append(
            (
                f"db-{t}",
                DatabaseProvider(),
                lambda e, t=t, pg=pg: {
                    "name": f"MFB PostgreSQL {t}",
                    "engine": "postgres",
                    "details": pg,
                    "secrets": {"password": f"pw-{t}"},
                    "required_tables": ["analytics.mart_screener_data"],
                    "sync_poll_seconds": 0.02,
                    "sync_timeout_seconds": 10,
                },
            )
        )
        steps.append((f"coll-{t}", CollectionProvider(), lambda e, t=t: {"name": t}))
        steps.append(
            (f"group-{t}", PermissionsGroupProvider(), lambda e, t=t: {"name": f"{t} Viewers"})
        )
        for i in range(CARDS_PER_TENANT):
            suffix = sql_suffix if (t, i) == (TENANTS[0], 0) else ""
            steps.append(
                (
                    f"card-{t}-{i}",
                    CardProvider(),
                    lambda e, t=t, i=i, suffix=suffix: {
                        "name": f"Card {i}",
                        "collection_id": outs(e, f"coll-{t}", "collection_id"),
                        "database_id": outs(e, f"db-{t}", "database_id"),
                        "sql": f"SELECT count(*) AS n FROM analytics.mart_screener_data"
                        f" WHERE {i} = {i}{suffix}",
                        "display": "scalar",
                    },
                )
            )
        steps.append(
            (
                f"dash-{t}",
                DashboardProvider(),
                lambda e, t=t: {
                    "name": f"{t} Dashboard",
                    "collection_id": outs(e, f"coll-{t}", "collection_id"),
                    "tabs": [
                        {"key": "summary", "name": "Summary"},
                        {"key": "households", "name": "Households"},
                    ],
                    "dashcards": [
                        {
                            "card_id": outs(e, f"card-{t}-{i}", "card_id"),
                            "tab": "summary" if i < 3 else "households",
                            "row": 0,
                            "col": (i % 3) * 8,
                            "size_x": 8,
                            "size_y": 4,
                        }
                        for i in range(CARDS_PER_TENANT)
                    ],
                },
            )
        )
    steps.append(("group-global", PermissionsGroupProvider(), lambda e: {"name": "Global Viewers"}))
    steps.append(
        (
            "data-perms",
            PermissionsGraphProvider(),
            lambda e: {
                "kind": "data",
                "entries": [
                    {
                        "group_id": outs(e, f"group-{t}", "group_id"),
                        "database_id": outs(e, f"db-{t}", "database_id"),
                        "permissions": {
                            "view-data": "unrestricted",
                            "create-queries": "query-builder",
                        },
                    }
                    for t in TENANTS
                ],
            },
        )
    )
    steps.append(
        (
            "coll-perms",
            PermissionsGraphProvider(),
            lambda e: {
                "kind": "collection",
                "entries": [
                    {
                        "group_id": outs(e, "group-global", "group_id"),
                        "collection_id": outs(e, f"coll-{t}", "collection_id"),
                        "access": "read",
                    }
                    for t in TENANTS
                ],
            },
        )
    )
    return steps


def up(engine: Engine, steps: list[Step]) -> list[str]:
    """One ``pulumi up``: stops at the first failed resource (dependents can't proceed)."""
    changed = []
    for name, provider, inputs in steps:
        before = len(engine.log)
        engine.up(name, provider, inputs(engine))
        if engine.log[before:] and engine.log[-1][0] != "same":
            changed.append(name)
    return changed


def duplicates(double: MetabaseDouble) -> int:
    names: Counter = Counter()
    for db in double.databases.values():
        names[("db", db["name"])] += 1
    for c in double.collections.values():
        names[("coll", c["name"], c["location"])] += 1
    for c in double.cards.values():
        names[("card", c["name"], c["collection_id"])] += 1
    for d in double.dashboards.values():
        names[("dash", d["name"], d["collection_id"])] += 1
    for g in double.groups.values():
        names[("group", g["name"])] += 1
    for d in double.dashboards.values():
        for dc in d["dashcards"]:
            names[("dashcard", d["id"], dc["dashboard_tab_id"], dc["row"], dc["col"])] += 1
    return sum(n - 1 for n in names.values() if n > 1)


def fresh(fault_rate: float = 0.0, seed: int = 1) -> tuple[MetabaseDouble, Engine]:
    double = MetabaseDouble(sync_delay=0.05).start()
    double.faults.rate = fault_rate
    double.faults.rng.seed(seed)
    engine = Engine({"url": double.url, "email": EMAIL, "password": PASSWORD})
    return double, engine


def measure_requests() -> dict[str, int]:
    double, engine = fresh()
    try:
        figures = {}
        up(engine, stack())
        figures["create all"] = len(double.requests)
        double.reset_counts()
        changed = up(engine, stack())
        assert not changed, changed
        figures["no-op up (check+diff)"] = len(double.requests)
        double.reset_counts()
        for name in list(engine.state):
            engine.refresh(name)
        figures["refresh (read all)"] = len(double.requests)
        double.reset_counts()
        changed = up(engine, stack(sql_suffix=" AND true"))
        assert changed == [f"card-{TENANTS[0]}-0"], changed
        figures["one-card SQL change"] = len(double.requests)
        figures["resources"] = len(engine.state)
        return figures
    finally:
        double.stop()


def measure_convergence(seed: int, rate: float, max_runs: int = 30) -> tuple[int, int, Counter]:
    double, engine = fresh(rate, seed)
    try:
        for run in range(1, max_runs + 1):
            try:
                up(engine, stack())
            except Exception:
                continue
            double.faults.rate = 0.0
            clean = not up(engine, stack())
            double.faults.rate = rate
            if clean:
                return run, duplicates(double), double.faults.injected
        return max_runs + 1, duplicates(double), double.faults.injected
    finally:
        double.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument(
        "--attempts",
        type=int,
        nargs="+",
        default=[3, 0],
        help="client retry attempts to measure with (0 = no retries: convergence across runs)",
    )
    args = parser.parse_args(argv)
    set_default_policy(RetryPolicy(attempts=3, backoff=0.002, max_backoff=0.01, timeout=10))

    figures = measure_requests()
    print(f"HTTP requests per operation ({figures.pop('resources')} resources):")
    for label, n in figures.items():
        print(f"  {label:<24} {n:>5}")

    worst_runs, total_dups = 0, 0
    for attempts in args.attempts:
        set_default_policy(RetryPolicy(attempts=attempts, backoff=0.002, max_backoff=0.01))
        runs, dups, injected = [], 0, Counter()
        for seed in range(1, args.seeds + 1):
            r, d, inj = measure_convergence(seed, args.fault_rate)
            runs.append(r)
            dups += d
            injected.update(inj)
        worst_runs, total_dups = max(worst_runs, max(runs)), total_dups + dups
        print(
            f"\nConvergence under {args.fault_rate:.0%} injected faults ({args.seeds} seeds, "
            f"client retry attempts={attempts}):"
        )
        print(
            f"  up runs to converge      mean {statistics.mean(runs):.2f}  max {max(runs)}  "
            f"first-run success {sum(1 for r in runs if r == 1)}/{len(runs)}"
        )
        print(f"  faults injected          {dict(injected)}")
        print(f"  duplicates left          {dups}")
    return 0 if total_dups == 0 and worst_runs <= 30 else 1


if __name__ == "__main__":
    raise SystemExit(main())
