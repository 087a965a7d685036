"""Screen-level rules of mart_screener_data on a real PostgreSQL, with rows that tell the live
system's rule apart from a plausible wrong one (upstream-content.md §4.1-4.3, §3.4).

Each crafted screen is added to a small sample-data database and the mart is built by dbt; every
test reads the crafted ids only, so the sample rows cannot move an expected value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mfb_infra.pgserver import PgServer
from mfb_infra.sample_data import NEAR_TEST_SOURCES, TEST_SOURCES
from tests.integration.dbt_fixtures import DbtDb, prepare_db

pytestmark = [pytest.mark.postgres, pytest.mark.dbt]

BASE = 9_000_000  # crafted screen ids (sample data uses small ids)
SAMPLE_SCREENS = 1500
WL = 1  # Colorado; its referrers include "211" and "cudenver"
AT = datetime(2026, 8, 1, 12, tzinfo=UTC)

# id offset -> (referral_source, referrer_code)
REFERRALS = {
    1: ("test", None),
    2: ("TEST", None),
    3: ("StagingTest", None),
    4: ("testORprospect", None),
    5: ("test", "211"),  # the test check wins over a valid referrer code
    6: ("Contest", None),
    7: ("Protestant Church", None),
    8: (" test", None),  # no trimming: not test
    9: ("Latest news", None),
    10: (None, None),
    11: ("211", None),
}
# id offset -> request_language_code
LANGUAGES = {
    20: "zh-hans",
    21: "pt-br",
    22: "ckb",
    23: "EN",  # exact, case-sensitive: unmapped
    24: "en",
    25: "am",  # served by the app, blank on the live map: we name it
    26: None,
    27: "es-mx",
}
# id offset -> income rows (type, amount, frequency, hours)
INCOME = {
    30: [],
    31: [("wages", "500.00", "fortnightly", None)],  # only an unknown frequency
    32: [("wages", "120.00", "weekly", None), ("wages", "50.00", "fortnightly", None)],
    33: [("wages", "15.00", "hourly", 20)],  # the staging rule is a fixed 40 h/week
    34: [("pension", "1200.00", "yearly", None), ("SSI", "100.00", "biweekly", None)],
    35: [("wages", "600.00", "semimonthly", None)],
}
EXPENSES = {
    30: [],
    32: [("rent", "300.00", "weekly")],
}
MEMBERS = {40: [], 41: [17, 18, 84, 85]}


def _screen(sid: int, *, source=None, code=None, language="en-us") -> tuple:
    return (
        sid,
        str(uuid.UUID(int=sid)),
        WL,
        True,
        False,
        False,
        False,
        AT,
        AT,
        code,
        source,
        "Denver",
        2,
        language,
    )


def _crafted_rows() -> dict[str, list[tuple]]:
    screens = [_screen(BASE + k, source=s, code=c) for k, (s, c) in REFERRALS.items()]
    screens += [_screen(BASE + k, language=lang) for k, lang in LANGUAGES.items()]
    screens += [_screen(BASE + k) for k in sorted(set(INCOME) | set(EXPENSES) | set(MEMBERS))]
    income, expenses, members = [], [], []
    for k, rows in INCOME.items():
        for i, (typ, amount, freq, hours) in enumerate(rows):
            income.append((BASE + k * 10 + i, BASE + k, BASE + k, typ, amount, freq, hours))
    for k, rows in EXPENSES.items():
        for i, (typ, amount, freq) in enumerate(rows):
            expenses.append((BASE + k * 10 + i, BASE + k, typ, amount, freq))
    for k, ages in MEMBERS.items():
        for i, age in enumerate(ages):
            members.append((BASE + k * 10 + i, BASE + k, age))
    return {"screens": screens, "income": income, "expenses": expenses, "members": members}


def _insert(dbdb: DbtDb) -> None:
    rows = _crafted_rows()
    pg = dbdb.pg
    for r in rows["screens"]:
        pg.execute(
            "INSERT INTO public.screener_screen (id, uuid, white_label_id, completed, is_test, "
            "is_test_data, is_verified, start_date, submission_date, referrer_code, "
            "referral_source, county, household_size, request_language_code) VALUES "
            f"({', '.join(_lit(v) for v in r)})",
            dbdb.db,
        )
    for r in rows["income"]:
        pg.execute(
            "INSERT INTO public.screener_incomestream (id, screen_id, household_member_id, type, "
            f"amount, frequency, hours_worked) VALUES ({', '.join(_lit(v) for v in r)})",
            dbdb.db,
        )
    for r in rows["expenses"]:
        pg.execute(
            "INSERT INTO public.screener_expense (id, screen_id, type, amount, frequency) "
            f"VALUES ({', '.join(_lit(v) for v in r)})",
            dbdb.db,
        )
    for r in rows["members"]:
        pg.execute(
            "INSERT INTO public.screener_householdmember (id, screen_id, age) "
            f"VALUES ({', '.join(_lit(v) for v in r)})",
            dbdb.db,
        )


def _lit(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, datetime):
        return f"'{v.isoformat()}'::timestamptz"
    return "'" + str(v).replace("'", "''") + "'"


@pytest.fixture(scope="module")
def rules_db(pg_server: PgServer, tmp_path_factory) -> Iterator[DbtDb]:
    db = "dbt_screen_rules"
    pg_server.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    pg_server.create_database(db)
    dbdb = prepare_db(pg_server, db, SAMPLE_SCREENS, tmp_path_factory.mktemp("dbt_rules"))
    _insert(dbdb)
    dbdb.run(["run", "--select", "+mart_screener_data"])
    yield dbdb
    pg_server.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _by_offset(dbdb: DbtDb, column: str, offsets) -> dict[int, object]:
    ids = ", ".join(str(BASE + k) for k in offsets)
    rows = dbdb.rows(f"SELECT id, {column} FROM analytics.mart_screener_data WHERE id IN ({ids})")
    return {sid - BASE: value for sid, value in rows}


# --- §4.1 test screens --------------------------------------------------------------------
def test_exact_case_insensitive_test_sources_are_dropped(rules_db):
    kept = _by_offset(rules_db, "partner", REFERRALS)
    assert not {1, 2, 3, 4} & kept.keys()


def test_test_source_wins_over_a_valid_referrer_code(rules_db):
    assert 5 not in _by_offset(rules_db, "partner", REFERRALS)


def test_sources_merely_containing_test_are_kept(rules_db):
    kept = _by_offset(rules_db, "partner", REFERRALS)
    assert {k: kept.get(k) for k in (6, 7, 8, 9)} == {
        6: "Other",
        7: "Other",
        8: "Other",
        9: "Other",
    }


def test_null_source_is_no_partner_and_a_referrer_code_source_is_its_partner(rules_db):
    kept = _by_offset(rules_db, "partner", REFERRALS)
    assert (kept.get(10), kept.get(11)) == ("No Partner", "2-1-1")


def _sample_kept(dbdb: DbtDb, sources) -> tuple[int, int]:
    """(eligible sample screens with these sources, how many of them reached the mart)."""
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in sources)
    rows = dbdb.rows(
        "SELECT count(*), count(m.id) FROM public.screener_screen s "
        "LEFT JOIN analytics.mart_screener_data m ON m.id = s.id "
        f"WHERE s.id < {BASE} AND s.referral_source IN ({listed}) "
        "AND s.completed AND NOT s.is_test AND s.is_test_data = false"
    )
    return rows[0]


def test_sample_data_near_test_sources_all_reach_the_mart(rules_db):
    eligible, kept = _sample_kept(rules_db, NEAR_TEST_SOURCES)
    assert eligible > 0 and kept == eligible


def test_sample_data_test_sources_never_reach_the_mart(rules_db):
    eligible, kept = _sample_kept(rules_db, TEST_SOURCES)
    assert eligible > 0 and kept == 0


# --- §4.3 language names --------------------------------------------------------------------
def test_language_names_follow_the_live_map(rules_db):
    names = _by_offset(rules_db, "request_language_code", LANGUAGES)
    assert {k: names[k] for k in (20, 21, 22, 24, 27)} == {
        20: "Simplified Chinese",
        21: "Brazilian Portuguese",
        22: "Central Kurdish (Sorani)",
        24: "English",
        27: "Mexican Spanish",
    }


def test_language_code_match_is_exact_and_case_sensitive(rules_db):
    names = _by_offset(rules_db, "request_language_code", LANGUAGES)
    assert (names[23], names[26]) == ("(blank)", "(blank)")


def test_languages_the_app_serves_are_named_where_the_live_map_is_blank(rules_db):
    assert _by_offset(rules_db, "request_language_code", LANGUAGES)[25] == "Amharic"


def test_language_map_holds_the_hundred_live_codes_plus_served_ones(rules_db):
    rows = rules_db.rows(
        "SELECT count(*), count(DISTINCT language_code) FROM analytics_internal.stg_language_names"
    )
    total, distinct = rows[0]
    assert total == distinct and total > 100


# --- §4.2 / §3.4 monthly income and expenses --------------------------------------------------
def test_screens_without_income_or_expense_rows_have_null_not_zero(rules_db):
    income = _by_offset(rules_db, "monthly_income", [30])
    expenses = _by_offset(rules_db, "monthly_expenses", [30])
    assert (income[30], expenses[30]) == (None, None)


def test_only_unknown_frequencies_give_null_income(rules_db):
    assert _by_offset(rules_db, "monthly_income", [31])[31] is None


def test_unknown_frequency_adds_nothing_to_known_ones(rules_db):
    # 120 weekly x 52 / 12 = 520; the fortnightly row contributes nothing
    assert _by_offset(rules_db, "monthly_income", [32])[32] == Decimal("520")


def test_hourly_income_uses_forty_hours_a_week(rules_db):
    # 15 x 40 x 52 / 12 = 2600 (the row's own 20 hours are a card-level concern)
    assert _by_offset(rules_db, "monthly_income", [33])[33] == Decimal("2600")


def test_yearly_biweekly_and_semimonthly_factors(rules_db):
    got = _by_offset(rules_db, "monthly_income", [34, 35])
    # 1200 / 12 + 100 x 26 / 12 = 100 + 216.67; 600 x 24 / 12 = 1200
    assert (round(got[34], 2), got[35]) == (Decimal("316.67"), Decimal("1200"))


def test_weekly_expenses_use_fifty_two_weeks(rules_db):
    assert _by_offset(rules_db, "monthly_expenses", [32])[32] == Decimal("1300")


def test_median_income_ignores_screens_without_income(rules_db):
    ids = ", ".join(str(BASE + k) for k in (30, 32, 33, 35))
    rows = rules_db.rows(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY monthly_income) "
        f"FROM analytics.mart_screener_data WHERE id IN ({ids})"
    )
    # 520, 1200, 2600 -> 1200 (with a 0 for screen 30 it would be 860)
    assert rows == [(1200.0,)]


# --- snapshots / demographics are NULL without rows -------------------------------------------
def test_demographics_and_snapshot_count_are_null_without_rows(rules_db):
    rows = rules_db.rows(
        'SELECT snapshots, "<18 (#)", "65-84 (%)" FROM analytics.mart_screener_data '
        f"WHERE id = {BASE + 40}"
    )
    assert rows == [(None, None, None)]


def test_age_bins_are_inclusive_integer_ranges(rules_db):
    rows = rules_db.rows(
        'SELECT "<18 (#)", "18-24 (#)", "65-84 (#)", ">84 (#)", "<18 (%)" '
        f"FROM analytics.mart_screener_data WHERE id = {BASE + 41}"
    )
    assert rows == [(1, 1, 1, 1, Decimal("0.25"))]


def test_monthly_benefit_columns_are_unrounded(rules_db):
    rows = rules_db.rows(
        "SELECT count(*) FILTER (WHERE non_tax_credit_benefits_monthly "
        "<> non_tax_credit_benefits_annual / 12), "
        "count(*) FILTER (WHERE non_tax_credit_benefits_monthly "
        "<> round(non_tax_credit_benefits_monthly, 2)) FROM analytics.mart_screener_data"
    )
    (differs, unrounded) = rows[0]
    assert differs == 0 and unrounded > 0
