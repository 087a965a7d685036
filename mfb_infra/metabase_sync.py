"""``mfb-infra metabase sync``: trigger ``sync_schema`` for the matching Metabase databases.

Used after dbt builds (nightly / on merge). Unlike the upstream step, a failed login, listing or
sync is an error (exit 1, message on stderr), and only the databases named (or of the given
engine) are synced. ``--stack`` then waits, in each synced database, for the tables that
stack's cards need (the same `required_tables` the program gives each Metabase database, rendered
from dashboards/content for the stack's tenants), with progress on stderr and a bounded wait
(``--timeout``): a table dbt did not build fails the run, naming it. ``--wait-tables`` adds
tables to wait for in every synced database.

    mfb-infra metabase sync --url https://metabase.example.org --email admin@example.org \
        --password-env METABASE_ADMIN_PASSWORD [--stack production] [--engine postgres] \
        [--database-name "MFB PostgreSQL Analytics"] [--wait-tables analytics.x] [--timeout 900]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from components.metabase.client import (
    Credentials,
    MetabaseClient,
    MetabaseConfigError,
    MetabaseError,
)
from components.metabase.database import wait_for_tables


class SyncError(Exception):
    """A sync step failed; the message says which and why."""


def select_databases(
    databases: Iterable[dict[str, Any]], names: Sequence[str], engines: Sequence[str]
) -> list[dict[str, Any]]:
    """Databases whose name is in ``names`` (or all, if none) and engine in ``engines`` (if any)."""
    picked = []
    for db in databases:
        if db.get("is_sample"):
            continue
        if names and db.get("name") not in names:
            continue
        if engines and db.get("engine") not in engines:
            continue
        picked.append(db)
    return picked


def required_tables_for_stack(stack: str) -> dict[str, list[str]]:
    """Metabase database name -> the tables its cards need, as the program renders them for
    `stack` (components.metabase_content: the Database resources' `required_tables`)."""
    from components.metabase_content.definitions import render_for_config
    from mfb_infra.sql import load_stack_config

    plan = render_for_config(load_stack_config(stack))
    return {d.name: list(d.required_tables) for d in plan.databases}


def sync_databases(
    client: MetabaseClient,
    names: Sequence[str] = (),
    engines: Sequence[str] = (),
    wait_tables: Sequence[str] = (),
    timeout: float = 900.0,
    poll: float = 5.0,
    report: Any = print,
    required: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """Trigger ``sync_schema`` on the matching databases; wait for tables.

    Each database waits for ``wait_tables`` plus ``required[its name]`` (the tables its cards
    need); a database ``required`` does not list (not made by the program) waits only for
    ``wait_tables``. The whole wait is bounded by ``timeout`` seconds (one deadline for all
    databases, so a run never waits longer than that).

    Raises ``SyncError`` when nothing matches, a named database is missing, any call fails, or
    a table is still missing when the time is up.
    """
    try:
        databases = client.list_data("database")
    except (MetabaseError, MetabaseConfigError) as exc:
        raise SyncError(f"could not list Metabase databases: {exc}") from exc
    picked = select_databases(databases, names, engines)
    missing = sorted(set(names) - {db.get("name") for db in picked})
    if missing:
        known = sorted(str(db.get("name")) for db in databases)
        raise SyncError(f"no Metabase database named {missing} (known: {known})")
    if not picked:
        raise SyncError(f"no Metabase database matches names={list(names)} engines={list(engines)}")
    for db in picked:
        try:
            client.post_idempotent(f"database/{db['id']}/sync_schema")
        except MetabaseError as exc:
            raise SyncError(
                f"sync_schema failed for {db['name']!r} (id {db['id']}): {exc}"
            ) from exc
        report(f"sync_schema triggered: {db['name']} (id {db['id']}, {db.get('engine')})")
    deadline = time.monotonic() + timeout
    for db in picked:
        tables = list(dict.fromkeys([*wait_tables, *((required or {}).get(db["name"]) or [])]))
        if not tables:
            if required is not None:
                report(f"{db['name']}: no card of this stack reads it; not waiting")
            continue
        left = max(deadline - time.monotonic(), 0.0)
        report(f"{db['name']}: waiting up to {left:.0f}s for {len(tables)} table(s)")
        try:
            wait_for_tables(
                client,
                int(db["id"]),
                tables,
                label=db["name"],
                timeout=left,
                poll=poll,
            )
        except MetabaseError as exc:
            raise SyncError(str(exc.message)) from exc
        report(f"tables visible in {db['name']}: {', '.join(tables)}")
    return picked


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mfb-infra metabase sync", description=__doc__.split("\n")[0])
    p.add_argument("--url", default=os.environ.get("METABASE_URL"), help="Metabase site root")
    p.add_argument("--email", default=os.environ.get("METABASE_ADMIN_EMAIL"))
    p.add_argument(
        "--password-env",
        default="METABASE_ADMIN_PASSWORD",
        help="name of the environment variable holding the admin password",
    )
    p.add_argument("--api-key-env", default=None, help="env var with an API key (instead)")
    p.add_argument("--database-name", action="append", default=[], dest="names")
    p.add_argument(
        "--engine",
        action="append",
        default=[],
        dest="engines",
        choices=["postgres", "bigquery-cloud-sdk"],
    )
    p.add_argument(
        "--stack",
        default=None,
        help="wait for the tables this stack's cards need (from its stack file and dashboards/)",
    )
    p.add_argument("--wait-tables", nargs="*", default=[])
    p.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="longest wait for tables (seconds, all databases)",
    )
    p.add_argument("--poll", type=float, default=5.0)
    return p


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time (so a CI log, or a test's capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stderr, flush=True)


def _show_progress() -> None:
    """The wait's progress lines (logger mfb.metabase) on stderr, as a CI log shows them."""
    log = logging.getLogger("mfb.metabase")
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        log.addHandler(_StderrHandler())
    log.setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    api_key = os.environ.get(args.api_key_env) if args.api_key_env else None
    password = os.environ.get(args.password_env) if not api_key else None
    if not args.url:
        print("error: --url (or METABASE_URL) is required", file=sys.stderr)
        return 2
    if not api_key and not (args.email and password):
        print(
            f"error: need --email and the password in ${args.password_env} (or --api-key-env)",
            file=sys.stderr,
        )
        return 2
    _show_progress()
    try:
        required = required_tables_for_stack(args.stack) if args.stack else None
    except (ValueError, FileNotFoundError) as exc:  # ConfigError is a ValueError
        print(f"error: metabase sync: stack {args.stack!r}: {exc}", file=sys.stderr)
        return 2
    try:
        client = MetabaseClient(Credentials(args.url, args.email, password, api_key))
        sync_databases(
            client,
            args.names,
            args.engines,
            args.wait_tables,
            args.timeout,
            args.poll,
            report=lambda m: print(m, flush=True),
            required=required,
        )
    except (SyncError, MetabaseConfigError, MetabaseError) as exc:
        print(f"error: metabase sync: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
