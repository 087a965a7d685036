"""`mfb-infra preflight` against a real PostgreSQL whose marts dbt really built."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import psycopg
import pytest

from mfb_infra import preflight
from mfb_infra.pgserver import PgServer
from tests.integration.dbt_fixtures import OWNER, OWNER_PW, DbtDb, grant_tenant_select, prepare_db
from tests.integration.dbt_fixtures import TENANT_ROLES as FIXTURE_ROLES

pytestmark = [pytest.mark.postgres, pytest.mark.dbt]

STACK = "production"  # heroku mode: tenant roles of its own, row level security on every mart
SCREENS = 300
_names = itertools.count()


@pytest.fixture(scope="module")
def built(pg_server: PgServer, tmp_path_factory) -> Iterator[DbtDb]:
    """Sample data, tenant roles and every dbt model built, as `mfb-infra local up` does."""
    db = "preflight_built"
    pg_server.create_database(db)
    dbdb = prepare_db(pg_server, db, SCREENS, tmp_path_factory.mktemp("preflight"))
    result = dbdb.run(["run"], check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    grant_tenant_select(pg_server, db, list(FIXTURE_ROLES))
    yield dbdb
    pg_server.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture
def copy(built: DbtDb) -> Iterator[tuple[PgServer, str]]:
    """A throwaway copy of the built database (so each test can break one thing)."""
    pg = built.pg
    name = f"preflight_copy_{next(_names)}"
    pg.execute(f'CREATE DATABASE "{name}" TEMPLATE "{built.db}"')
    try:
        yield pg, name
    finally:
        pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def owner_dsn(pg: PgServer, db: str) -> str:
    return pg.dsn(db, OWNER, OWNER_PW)


def problems_of(report: preflight.PreflightReport) -> dict[str, str]:
    return {p.subject: p.message for p in report.problems}


def test_preflight_passes_on_a_freshly_built_database(built):
    report = preflight.run(STACK, owner_dsn(built.pg, built.db))
    assert report.ok, report.format()
    assert report.checked["columns"] > 40


def test_dropped_column_is_named_with_its_card_and_dbt_model(copy):
    pg, db = copy
    pg.execute("ALTER TABLE analytics.mart_screener_data DROP COLUMN county", db)
    report = preflight.run(STACK, owner_dsn(pg, db))
    msg = problems_of(report)["analytics.mart_screener_data.county"]
    who = preflight.stack_needs(STACK).columns[("mart_screener_data", "county")]
    assert any("card 'Which Counties Did The Screeners Come From?'" in w for w in who)
    assert sorted(who)[0] in msg  # cards are named (the first 40, then a count)
    assert "dbt build --select +mart_screener_data" in msg
    assert len(report.problems) == 1, report.format()


def test_dropped_mart_is_named_with_the_cards_that_read_it(copy):
    pg, db = copy
    pg.execute("DROP TABLE analytics.mart_screener_expense", db)
    msg = problems_of(preflight.run(STACK, owner_dsn(pg, db)))["analytics.mart_screener_expense"]
    assert "card 'What are the most common expenses?'" in msg
    assert "dbt build --select +mart_screener_expense" in msg


def test_mart_without_row_level_security_fails(copy):
    pg, db = copy
    pg.execute("ALTER TABLE analytics.mart_income DISABLE ROW LEVEL SECURITY", db)
    msg = problems_of(preflight.run(STACK, owner_dsn(pg, db)))["analytics.mart_income"]
    assert "without row level security" in msg


def test_tenant_role_that_bypasses_row_level_security_fails(built):
    role = "wl_co_1_ro"
    assert role in FIXTURE_ROLES
    built.pg.execute(f"ALTER ROLE {role} BYPASSRLS")
    try:
        report = preflight.run(STACK, owner_dsn(built.pg, built.db))
    finally:
        built.pg.execute(f"ALTER ROLE {role} NOBYPASSRLS")
    assert "bypassrls" in problems_of(report)[f"role {role}"]


def test_catalog_is_read_in_a_read_only_transaction(built):
    seen: list[str] = []

    class Spy(psycopg.Connection):
        def execute(self, query, params=None, **kw):
            cur = super().execute(query, params, **kw)
            if query == "SHOW transaction_read_only":
                seen.append(cur.fetchone()[0])
                return super().execute(query, params, **kw)
            return cur

    with Spy.connect(owner_dsn(built.pg, built.db)) as conn:
        preflight.read_catalog(conn, "analytics")
    assert seen == ["on"]


def test_a_writable_transaction_is_refused(built):
    class IgnoresReadOnly(psycopg.Connection):  # control: the read-only request is lost
        @property
        def read_only(self):
            return None

        @read_only.setter
        def read_only(self, value):
            pass

    with IgnoresReadOnly.connect(owner_dsn(built.pg, built.db)) as conn:
        with pytest.raises(preflight.PreflightError, match="read-only"):
            preflight.read_catalog(conn, "analytics")


def test_cli_exits_1_and_prints_the_column_when_one_is_missing(copy, capsys):
    pg, db = copy
    pg.execute("ALTER TABLE analytics.mart_householdmembers DROP COLUMN age", db)
    assert preflight.main(["--stack", STACK, "--dsn", owner_dsn(pg, db)]) == 1
    out = capsys.readouterr().out
    assert "analytics.mart_householdmembers.age" in out and "preflight FAILED" in out


def test_cli_exits_0_on_the_built_database(built, capsys):
    assert preflight.main(["--stack", STACK, "--dsn", owner_dsn(built.pg, built.db)]) == 0
    assert "preflight OK" in capsys.readouterr().out
