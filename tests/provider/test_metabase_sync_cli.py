"""mfb_infra.metabase_sync: only matching databases are synced; failures exit non-zero."""

from __future__ import annotations

import pytest
from conftest import MB, double_only

from components.metabase.database import DatabaseProvider
from mfb_infra.metabase_sync import main


@pytest.fixture
def two_dbs(mb: MB, warehouse_details) -> tuple[int, int]:
    ids = []
    for name in ("PG One", "PG Two"):
        outs = mb.engine.up(
            name,
            DatabaseProvider(),
            {
                "name": mb.name(name),
                "engine": "postgres",
                **warehouse_details,
                "sync_poll_seconds": 0.02,
                "sync_timeout_seconds": 5,
            },
        )
        ids.append(int(outs["database_id"]))
    return ids[0], ids[1]


def args(mb: MB, *extra: str) -> list[str]:
    return ["--url", mb.url, "--email", mb.email, "--password-env", "MB_TEST_PW", *extra]


@double_only
def test_sync_triggers_only_the_named_database(mb: MB, two_dbs, monkeypatch) -> None:
    monkeypatch.setenv("MB_TEST_PW", mb.password)
    mb.double.reset_counts()
    assert main(args(mb, "--database-name", mb.name("PG One"))) == 0
    synced = [p for m, p in mb.double.requests if p.endswith("/sync_schema")]
    assert synced == [f"/api/database/{two_dbs[0]}/sync_schema"]


def test_sync_waits_for_tables(mb: MB, two_dbs, monkeypatch) -> None:
    monkeypatch.setenv("MB_TEST_PW", mb.password)
    code = main(
        args(
            mb,
            "--database-name",
            mb.name("PG Two"),
            "--wait-tables",
            "analytics.mart_screener_data",
            "--poll",
            "0.02",
            "--timeout",
            "5",
        )
    )
    assert code == 0


def test_sync_unknown_database_name_exits_1(mb: MB, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MB_TEST_PW", mb.password)
    assert main(args(mb, "--database-name", "Nope")) == 1
    assert "Nope" in capsys.readouterr().err


def test_sync_bad_login_exits_1_with_a_clear_message(mb: MB, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MB_TEST_PW", "wrong-password")
    assert main(args(mb)) == 1
    assert "login" in capsys.readouterr().err


def test_sync_without_password_exits_2(mb: MB, monkeypatch) -> None:
    monkeypatch.delenv("MB_TEST_PW", raising=False)
    assert main(args(mb)) == 2
