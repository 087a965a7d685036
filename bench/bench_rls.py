"""Benchmark: dashboard card queries as a tenant role (RLS policy) vs the owner with WHERE.

    .venv/bin/python bench/bench_rls.py --screens 1000000 [--dsn SUPERUSER_DSN] [--repeat 7]

Builds the database the way `mfb-infra local up` does (sample data, access SQL, dbt build as
the owner, policies), then, for each card query shape and a large, a middle and a small
tenant, times the query side by side in one run — the tenant role with no filter (its
role-bound policy `white_label_id = <id>` applies) and the owner with an explicit
`WHERE white_label_id = <id>` — alternating the order, best of at least N rounds and S
seconds per query after a warm-up (so a busy machine still yields a quiet minimum). Prints the
ratios (goal: <= 1.2 for every query), which relations the tenant's plan scans (with marts
partitioned by white_label_id: its own partitions only) and whether both plans are the same.

    .venv/bin/python bench/bench_rls.py --screens 1000000 --json after.json --compare before.json

`--compare` prints the ratios of an earlier run's --json next to this run's (e.g. before and
after a change to the marts).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mfb_infra import local
from mfb_infra.conninfo import with_dbname
from mfb_infra.isolation import dsn_with_login

GOAL = 1.2
DEFAULT_TENANTS = ("co", "tx", "co_tax_calculator")  # largest, middle, smallest share

# name -> SQL with {where} (either "" for the tenant or "AND white_label_id = N" for the owner);
# every query starts its WHERE with TRUE so both forms are valid
QUERIES = {
    "count screens": "SELECT count(*) FROM analytics.mart_screener_data WHERE TRUE {where}",
    "screens last 30 days": (
        "SELECT count(*) FROM analytics.mart_screener_data "
        "WHERE submission_date >= DATE '{end}' - 30 {where}"
    ),
    "daily screens last 30 days": (
        "SELECT submission_date, count(*) FROM analytics.mart_screener_data "
        "WHERE submission_date >= DATE '{end}' - 30 {where} GROUP BY 1 ORDER BY 1"
    ),
    "household by relationship": (
        "SELECT relationship, count(*) FROM analytics.mart_householdmembers WHERE TRUE {where} "
        "GROUP BY 1 ORDER BY 2 DESC"
    ),
    "members by age band (30 d)": (
        "SELECT width_bucket(age, 0, 100, 10), count(*) FROM analytics.mart_householdmembers "
        "WHERE submission_date >= DATE '{end}' - 30 {where} GROUP BY 1"
    ),
    "qualified benefits by program": (
        "SELECT benefit_display_name, count(DISTINCT screen_id), sum(annual_value) "
        "FROM analytics.mart_qualified_benefits WHERE TRUE {where} GROUP BY 1 ORDER BY 2 DESC"
    ),
    "current benefits by partner": (
        "SELECT partner, count(*) FROM analytics.mart_current_benefits WHERE TRUE {where} "
        "GROUP BY 1 ORDER BY 2 DESC"
    ),
    "screens by county (30 d)": (
        "SELECT county, count(*) FROM analytics.mart_screener_data "
        "WHERE submission_date >= DATE '{end}' - 30 {where} GROUP BY 1 ORDER BY 2 DESC"
    ),
}


def _scans(plan: dict) -> set[str]:
    out: set[str] = set()

    def walk(node: dict) -> None:
        kind = node.get("Node Type", "")
        if "Scan" in kind:
            idx = node.get("Index Name")
            out.add(
                f"{kind}{' ' + idx if idx else ''} on {node.get('Relation Name', '?')}"
                if "Index" in kind
                else f"{kind} on {node.get('Relation Name', '?')}"
            )
        for child in node.get("Plans", []) or []:
            walk(child)

    walk(plan[0]["Plan"])
    return out


def _relations(plan: dict) -> set[str]:
    out: set[str] = set()
    stack = [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        if "Relation Name" in node:
            out.add(node["Relation Name"])
        stack.extend(node.get("Plans", []) or [])
    return out


def _scope(relations: set[str], white_label_id: int) -> str:
    """What a tenant plan reads: its own partitions only, or whole tables (every tenant's)."""
    own = {r for r in relations if r.endswith(f"_wl{white_label_id}")}
    if relations and own == relations:
        return "own partition"
    return "whole table" if relations else "nothing"


def _blocks(conn, sql: str) -> int:
    """Buffers the query touched (shared hit + read, the whole plan): its work, free of the
    timing noise of a shared machine."""
    top = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql).fetchone()[0][0]["Plan"]
    return int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))


def _time(conn, sql: str) -> float:
    t = time.perf_counter()
    conn.execute(sql).fetchall()
    return time.perf_counter() - t


def build(args) -> tuple[str, dict[str, str]]:
    """Database with sample data, marts, tenant roles; returns (superuser db DSN, passwords)."""
    from mfb_infra.sample_data import load_sample_data

    root = Path(args.root)
    plan = local.stack_plan_sql_mode("production")
    if args.dsn:
        admin = args.dsn
    else:
        server, _ = local.ensure_server(root)
        admin = server.dsn("postgres")
    passwords = local.load_credentials(
        root / local.CREDENTIALS_FILE, [local.OWNER_ROLE, *[t.role for t in plan.tenant_roles]]
    )
    db_dsn = with_dbname(admin, args.dbname)
    if args.reuse:
        return db_dsn, passwords
    db_dsn = local.recreate_database(admin, args.dbname)
    t = time.monotonic()
    load_sample_data(db_dsn, args.screens, args.seed)
    print(f"sample data: {args.screens} screens in {time.monotonic() - t:.0f} s", flush=True)
    local.ensure_owner_role(db_dsn, args.dbname, passwords[local.OWNER_ROLE])
    local.apply_access_sql(db_dsn, plan, passwords)
    t = time.monotonic()
    owner_dsn = dsn_with_login(db_dsn, local.OWNER_ROLE, passwords[local.OWNER_ROLE])
    local.run_dbt_build(owner_dsn, plan.schema, root / "dbt-target-bench")
    print(f"dbt build: {time.monotonic() - t:.0f} s", flush=True)
    finish(db_dsn, plan, passwords)
    return db_dsn, passwords


def finish(db_dsn: str, plan, passwords: dict[str, str]) -> None:
    """Access SQL after the build, then VACUUM ANALYZE. Autovacuum's ANALYZE of the freshly
    built marts can deadlock with the access SQL's GRANT + DROP/CREATE POLICY (PostgreSQL
    aborts the access SQL's transaction); the SQL is idempotent, so it is simply retried."""
    import psycopg

    for attempt in range(1, 4):
        try:
            local.apply_access_sql(db_dsn, plan, passwords)
            break
        except psycopg.errors.DeadlockDetected:
            if attempt == 3:
                raise
            print("access SQL: deadlock with autovacuum; retrying", flush=True)
            time.sleep(2)
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def run(args) -> int:
    import psycopg

    db_dsn, passwords = build(args)
    plan = local.stack_plan_sql_mode("production")
    by_slug = {t.slug: t for t in plan.tenant_roles}
    owner_dsn = dsn_with_login(db_dsn, local.OWNER_ROLE, passwords[local.OWNER_ROLE])
    rows: list[dict] = []
    with psycopg.connect(owner_dsn, autocommit=True) as owner:
        end = owner.execute(
            "SELECT max(submission_date) FROM analytics.mart_screener_data"
        ).fetchone()[0]
        total = owner.execute("SELECT count(*) FROM analytics.mart_screener_data").fetchone()[0]
        print(
            f"mart_screener_data: {total} rows; last submission {end}; best of at least "
            f"{args.repeat} rounds and {args.seconds:g} s per query"
        )
        for slug in args.tenants:
            t = by_slug[slug]
            with psycopg.connect(
                dsn_with_login(db_dsn, t.role, passwords[t.role]), autocommit=True
            ) as tenant:
                share = tenant.execute(
                    "SELECT count(*) FROM analytics.mart_screener_data"
                ).fetchone()[0]
                for name, template in QUERIES.items():
                    q_owner = template.format(
                        end=end, where=f"AND white_label_id = {t.white_label_id}"
                    )
                    q_tenant = template.format(end=end, where="")
                    _time(owner, q_owner), _time(tenant, q_tenant)  # warm-up
                    best_o, best_t = float("inf"), float("inf")
                    # at least --repeat rounds and --seconds of rounds: cheap queries get many
                    # more rounds, so a quiet moment of a busy machine is in every minimum
                    started, i = time.monotonic(), 0
                    while i < args.repeat or (
                        time.monotonic() - started < args.seconds and i < 50 * args.repeat
                    ):
                        pair = [(owner, q_owner, "o"), (tenant, q_tenant, "t")]
                        for conn, sql, who in pair if i % 2 == 0 else reversed(pair):
                            dt = _time(conn, sql)
                            if who == "o":
                                best_o = min(best_o, dt)
                            else:
                                best_t = min(best_t, dt)
                        i += 1
                    plan_o = owner.execute("EXPLAIN (FORMAT JSON) " + q_owner).fetchone()[0]
                    plan_t = tenant.execute("EXPLAIN (FORMAT JSON) " + q_tenant).fetchone()[0]
                    blocks_o, blocks_t = _blocks(owner, q_owner), _blocks(tenant, q_tenant)
                    scans_o, scans_t = _scans(plan_o), _scans(plan_t)
                    rows.append(
                        {
                            "tenant": slug,
                            "rows": share,
                            "query": name,
                            "owner_ms": best_o * 1000,
                            "tenant_ms": best_t * 1000,
                            "ratio": best_t / best_o,
                            "blocks_ratio": blocks_t / max(1, blocks_o),
                            "tenant_reads": _scope(_relations(plan_t), t.white_label_id),
                            "same_plan": scans_o == scans_t,
                            "tenant_scans": sorted(scans_t),
                        }
                    )
    print(
        f"\n{'tenant':18s} {'screens':>8s} {'query':32s} {'owner ms':>9s} {'tenant ms':>9s} "
        f"{'ratio':>6s} {'blocks t/o':>10s}  {'tenant plan reads':17s}  same plan"
    )
    for r in rows:
        print(
            f"{r['tenant']:18s} {r['rows']:>8d} {r['query']:32s} {r['owner_ms']:>9.2f} "
            f"{r['tenant_ms']:>9.2f} {r['ratio']:>6.2f} {r['blocks_ratio']:>10.2f}  "
            f"{r['tenant_reads']:17s}  "
            f"{r['same_plan']}"
        )
    worst = max(rows, key=lambda r: r["ratio"])
    print(
        f"\nworst ratio {worst['ratio']:.2f} ({worst['tenant']}, {worst['query']}); goal <= "
        f"{GOAL}: {'met' if worst['ratio'] <= GOAL else 'NOT met'}; plans identical for "
        f"{sum(r['same_plan'] for r in rows)}/{len(rows)} queries"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    if args.compare:
        compare(json.loads(Path(args.compare).read_text()), rows, args.compare)
    return 0 if worst["ratio"] <= GOAL else 1


def compare(before: list[dict], after: list[dict], label: str) -> None:
    """An earlier run (its --json) next to this run: tenant/owner time ratios, the owner's
    times, and the tenant/owner buffer ratios (when the earlier run recorded them)."""
    old = {(r["tenant"], r["query"]): r for r in before}

    def fmt(r: dict | None, key: str, spec: str) -> str:
        return format(r[key], spec) if r and key in r else format("-", spec.rstrip(".2f") + "s")

    print(f"\nbefore = {label}, after = this run")
    print(
        f"{'tenant':18s} {'query':32s} {'ratio before':>12s} {'after':>6s}  "
        f"{'owner ms before':>15s} {'after':>8s}  {'blocks t/o before':>17s} {'after':>5s}"
    )
    for r in after:
        b = old.get((r["tenant"], r["query"]))
        print(
            f"{r['tenant']:18s} {r['query']:32s} {fmt(b, 'ratio', '>12.2f')} "
            f"{r['ratio']:>6.2f}  {fmt(b, 'owner_ms', '>15.2f')} {r['owner_ms']:>8.2f}  "
            f"{fmt(b, 'blocks_ratio', '>17.2f')} {r['blocks_ratio']:>5.2f}"
        )
    worst_before = max((b["ratio"] for b in before), default=float("nan"))
    worst_after = max(r["ratio"] for r in after)
    print(f"worst ratio: before {worst_before:.2f}, after {worst_after:.2f} (goal <= {GOAL})")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--screens", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--repeat", type=int, default=7, help="minimum rounds per query")
    p.add_argument(
        "--seconds",
        type=float,
        default=4.0,
        help="keep repeating a query's rounds for this long (up to 50x --repeat rounds)",
    )
    p.add_argument("--dsn", help="superuser DSN (default: throwaway server under --root)")
    p.add_argument("--root", default=str(local.LOCAL_DIR / "bench"))
    p.add_argument("--dbname", default="mfb_bench")
    p.add_argument("--tenants", nargs="+", default=list(DEFAULT_TENANTS))
    p.add_argument("--reuse", action="store_true", help="skip the build; reuse the database")
    p.add_argument("--json", help="also write the measurements here")
    p.add_argument(
        "--compare", help="a --json file of an earlier run: print its ratios next to these"
    )
    return run(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
