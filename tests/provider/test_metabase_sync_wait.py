"""`mfb-infra metabase sync --stack`: after the sync, wait (bounded, with progress) until each
synced database shows the tables its cards need — the same tables the program requires."""

from __future__ import annotations

import time

import pytest
from conftest import MB, double_only

from components.metabase.database import DatabaseProvider
from mfb_infra.metabase_sync import main, required_tables_for_stack
from mfb_infra.program import ProgramRun, unwrap

DATABASE = "pulumi-python:dynamic/metabase:Database"


def test_the_stacks_required_tables_are_what_the_program_gives_each_database(
    production_run: ProgramRun,
) -> None:
    wanted = required_tables_for_stack("production")
    registered = {
        unwrap(r.inputs["name"]): list(unwrap(r.inputs["required_tables"]))
        for r in production_run.of_type(DATABASE)
    }
    assert registered and {k: wanted[k] for k in registered} == registered


def _make_db(mb: MB, name: str, warehouse_details) -> int:
    outs = mb.engine.up(
        name,
        DatabaseProvider(),
        {
            "name": name,
            "engine": "postgres",
            **warehouse_details,
            "required_tables": [],
            "sync_poll_seconds": 0.02,
            "sync_timeout_seconds": 5,
        },
    )
    return int(outs["database_id"])


GLOBAL_PG = "MFB PostgreSQL Analytics"


def _args(mb: MB, *extra: str) -> list[str]:
    return [
        "--url", mb.url, "--email", mb.email, "--password-env", "MB_TEST_PW",
        "--stack", "production", "--engine", "postgres", "--database-name", GLOBAL_PG,
        "--poll", "0.02", *extra,
    ]  # fmt: skip


def _make_db_synced_without(mb: MB, warehouse_details) -> int:
    """The stack's global database as Metabase knows it before tonight's dbt run: synced,
    without the marts (so the wait below has something to wait for)."""
    assert mb.double is not None
    mb.double.warehouse[GLOBAL_PG] = []
    mb.double.sync_delay = 0.0
    db_id = _make_db(mb, GLOBAL_PG, warehouse_details)
    mb.client().get(f"database/{db_id}")  # the double finishes that sync on the next read
    assert mb.double.databases[db_id]["tables"] == []
    return db_id


@double_only
def test_sync_waits_until_every_table_the_cards_need_is_visible(
    mb: MB, warehouse_details, monkeypatch, capsys
) -> None:
    tables = required_tables_for_stack("production")[GLOBAL_PG]
    _make_db_synced_without(mb, warehouse_details)
    assert mb.double is not None
    mb.double.warehouse[GLOBAL_PG] = list(tables)  # dbt built them; Metabase sees them on sync
    mb.double.sync_delay = 0.3
    monkeypatch.setenv("MB_TEST_PW", mb.password)
    assert main(_args(mb, "--timeout", "10")) == 0
    out = capsys.readouterr()
    # it saw the tables missing (and said so while waiting), then saw all of them
    assert f"{GLOBAL_PG}: waiting for {len(tables)} table(s)" in out.err
    assert f"tables visible in {GLOBAL_PG}: {', '.join(tables)}" in out.out


@double_only
def test_a_table_dbt_did_not_build_fails_the_sync_naming_it_within_the_bound(
    mb: MB, warehouse_details, monkeypatch, capsys
) -> None:
    tables = required_tables_for_stack("production")[GLOBAL_PG]
    _make_db_synced_without(mb, warehouse_details)
    assert mb.double is not None
    mb.double.warehouse[GLOBAL_PG] = [t for t in tables if t != "analytics.mart_income"]
    mb.double.sync_delay = 0.05
    monkeypatch.setenv("MB_TEST_PW", mb.password)
    started = time.monotonic()
    assert main(_args(mb, "--timeout", "1")) == 1
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err
    assert "analytics.mart_income" in err and "still missing" in err


@double_only
def test_without_a_stack_the_sync_only_triggers(mb: MB, warehouse_details, monkeypatch) -> None:
    """Control: the wait above comes from --stack."""
    _make_db_synced_without(mb, warehouse_details)
    monkeypatch.setenv("MB_TEST_PW", mb.password)
    args = [a for a in _args(mb, "--timeout", "1") if a not in ("--stack", "production")]
    assert main(args) == 0


def test_an_unknown_stack_is_a_usage_error(monkeypatch, capsys) -> None:
    monkeypatch.setenv("MB_TEST_PW", "x")
    code = main(["--url", "http://127.0.0.1:9", "--email", "a@b.org", "--password-env",
                 "MB_TEST_PW", "--stack", "prod"])  # fmt: skip
    assert code == 2 and "Pulumi.prod.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_every_stack_database_needs_some_table(stack) -> None:
    required = required_tables_for_stack(stack)
    assert required and all(required.values())
