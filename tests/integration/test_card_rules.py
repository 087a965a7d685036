"""The subtle rules of the card SQL (bins, factors, NULL handling, hidden rows) on real Postgres.

Each test loads a few hand-made mart rows chosen so that the rule the inventory states and the
plausible wrong rule give different answers (a bin edge on each side, a NULL next to a 0, ...),
runs the card's SQL exactly as rendered for the global scope (no filters) against those tables,
and compares with the result worked out by hand. Rules: ../shared/reference/upstream-content.md
§2.1-2.2 and §4.2-4.6.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest

from components.metabase_content.definitions import bind_columns, load_definitions, render_sql
from mfb_infra.pgserver import PgServer

pytestmark = [pytest.mark.postgres]

SCHEMA = "cards"
NEEDS = (
    "needs_baby_supplies", "needs_child_dev_help", "needs_food", "needs_funeral_help",
    "needs_housing_help", "needs_mental_health_help", "needs_family_planning_help",
    "needs_dental_care", "needs_job_resources", "needs_legal_services", "needs_college_savings",
    "needs_veteran_services",
)  # fmt: skip
TABLES = f"""
CREATE SCHEMA {SCHEMA};
CREATE TABLE {SCHEMA}.mart_screener_data (
    id bigint PRIMARY KEY, white_label_id int NOT NULL DEFAULT 1,
    submission_date date NOT NULL DEFAULT CURRENT_DATE, partner text DEFAULT 'No Partner',
    county text DEFAULT 'Wake', household_size int, household_assets numeric,
    monthly_income numeric, monthly_expenses numeric, has_benefits text,
    request_language_code text DEFAULT 'English',
    non_tax_credit_benefits_annual numeric NOT NULL DEFAULT 0,
    tax_credits_annual numeric NOT NULL DEFAULT 0,
    {", ".join(f"{n} bool" for n in NEEDS)},
    is_home_owner bool, is_renter bool, electric_provider text, electric_provider_name text,
    gas_heat_provider text, gas_heat_provider_name text, electricity_is_disconnected bool,
    has_past_due_energy_bills bool, has_old_car bool, needs_stove bool, needs_water_heater bool,
    needs_hvac bool, referrer_code text, has_student bool NOT NULL DEFAULT false,
    programs_matched int NOT NULL DEFAULT 0
);
CREATE TABLE {SCHEMA}.mart_householdmembers (
    screen_id bigint, white_label_id int DEFAULT 1, relationship text, age int,
    disabled bool, visually_impaired bool, long_term_disability bool
);
CREATE TABLE {SCHEMA}.mart_income (
    screen_id bigint, white_label_id int DEFAULT 1, type text, amount numeric, frequency text,
    hours_worked numeric
);
CREATE TABLE {SCHEMA}.mart_screener_expense (
    screen_id bigint, white_label_id int DEFAULT 1, type text, amount numeric, frequency text
);
"""
_names = itertools.count()


@pytest.fixture(scope="module")
def defs():
    return load_definitions()


@pytest.fixture()
def db(pg_server: PgServer) -> Iterator[str]:
    name = f"card_rules_{next(_names)}"
    pg_server.create_database(name)
    pg_server.execute(TABLES, name)
    try:
        yield pg_server.dsn(name)
    finally:
        pg_server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def insert(dsn: str, table: str, rows: list[dict]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for row in rows:
            cols = ", ".join(row)
            marks = ", ".join(["%s"] * len(row))
            conn.execute(
                f"INSERT INTO {SCHEMA}.{table} ({cols}) VALUES ({marks})", list(row.values())
            )


def screens(dsn: str, *rows: dict) -> None:
    insert(dsn, "mart_screener_data", [{"id": i + 1, **r} for i, r in enumerate(rows)])


def card(dsn: str, defs, key: str) -> list[tuple]:
    """The card's SQL as the global scope renders it, on the hand-made tables."""
    c = defs.cards.cards[key]
    sql = render_sql(
        bind_columns(defs.sql[c.sql], c.bind), engine="postgres", schema=SCHEMA,
        params=defs.parameter_by_id, available=set(), filter_table=defs.parameters.filter_table,
        window_days=c.window_days,
    )  # fmt: skip
    with psycopg.connect(dsn, autocommit=True) as conn:
        return [
            tuple(float(v) if isinstance(v, Decimal) else v for v in row)
            for row in conn.execute(sql).fetchall()
        ]


# ------------------------------------------------------------------------------ bins (§4.4)
def test_income_bins_use_the_inventory_edges_and_skip_screens_without_income(db, defs):
    # annual 14,999.88 | exactly 15,000 | 45,000 (old "$30K-50K") | 100,000.08 | no income rows
    screens(db, *({"monthly_income": m} for m in (1249.99, 1250, 3750, 8333.34, None)))
    assert card(db, defs, "household_income_distribution") == [
        ("$0-15K", 0.25), ("$15-30K", 0.25), ("$45-60K", 0.25), ("$100K+", 0.25),
    ]  # fmt: skip


def test_asset_bins_use_the_inventory_edges(db, defs):
    screens(db, *({"household_assets": a} for a in (999, 1000, 1999, 2000, 9999, 50000, None)))
    rows = card(db, defs, "household_assets_distribution")
    assert [r[0] for r in rows] == ["$0-1K", "$1-2K", "$2-5K", "$5-10K", "$50K+"]
    assert rows[1] == ("$1-2K", pytest.approx(2 / 6))


def test_household_sizes_keep_unknown_sizes_in_the_denominator(db, defs):
    screens(db, *({"household_size": s} for s in (1, 7, 8, 9, None)))
    assert card(db, defs, "household_sizes") == [
        ("1", 0.2), ("7", 0.2), ("8+", 0.4), (None, 0.2),
    ]  # fmt: skip


def test_head_of_household_ages_bin_inclusive_integer_edges_of_heads_only(db, defs):
    screens(db, {})
    insert(db, "mart_householdmembers", [
        {"screen_id": 1, "relationship": "headOfHousehold", "age": 18},
        {"screen_id": 1, "relationship": "headOfHousehold", "age": 19},
        {"screen_id": 1, "relationship": "headOfHousehold", "age": 65},
        {"screen_id": 1, "relationship": "headOfHousehold", "age": None},
        {"screen_id": 1, "relationship": "child", "age": 3},
    ])  # fmt: skip
    assert card(db, defs, "household_head_ages") == [
        ("0-18", pytest.approx(1 / 3)), ("19-24", pytest.approx(1 / 3)),
        ("65+", pytest.approx(1 / 3)),
    ]  # fmt: skip


def test_member_ages_split_under_five_from_five_to_eighteen(db, defs):
    screens(db, {})
    insert(db, "mart_householdmembers", [
        {"screen_id": 1, "relationship": r, "age": a}
        for r, a in (("child", 4), ("child", 5), ("headOfHousehold", 18), ("spouse", 24))
    ])  # fmt: skip
    assert card(db, defs, "household_member_ages") == [
        ("<5", 0.25), ("5-18", 0.5), ("19-24", 0.25),
    ]  # fmt: skip


# ------------------------------------------------------------------------------ NULL (§4.2)
def test_income_and_expense_medians_ignore_screens_without_rows(db, defs):
    # with NULL -> 0 the medians would be 100 (0, 100, 300) instead of 200
    screens(db, *({"monthly_income": v, "monthly_expenses": v} for v in (100, 300, None)))
    assert card(db, defs, "monthly_income_median") == [(200.0,)]
    assert card(db, defs, "annual_income_median") == [(2400.0,)]
    assert card(db, defs, "monthly_expenses_median") == [(200.0,)]


def test_pct_disabled_counts_members_who_answered_any_of_the_three_questions(db, defs):
    screens(db, {})
    members = [
        (True, None, None),  # disabled
        (None, False, None),  # answered one: not disabled
        (None, None, True),  # long-term disability
        (None, None, None),  # answered none: not in the denominator
    ]
    insert(db, "mart_householdmembers", [
        {"screen_id": 1, "disabled": d, "visually_impaired": v, "long_term_disability": lt}
        for d, v, lt in members
    ])  # fmt: skip
    assert card(db, defs, "pct_disabled") == [(round(2 / 3, 4),)]


def test_pct_young_adults_is_19_to_24_inclusive_among_known_ages(db, defs):
    screens(db, {})
    insert(db, "mart_householdmembers", [
        {"screen_id": 1, "age": a} for a in (18, 19, 24, 25, None)
    ])  # fmt: skip
    assert card(db, defs, "pct_young_adults") == [(0.5,)]


# ------------------------------------------------------------------------------ factors (§4.5)
def test_income_streams_use_the_card_factors_labels_and_positive_amounts(db, defs):
    screens(db, {}, {}, {}, {})
    insert(db, "mart_income", [
        {"screen_id": 1, "type": "wages", "amount": 100, "frequency": "weekly"},
        {"screen_id": 2, "type": "wages", "amount": 100, "frequency": "biweekly"},
        {"screen_id": 3, "type": "wages", "amount": 0, "frequency": "monthly"},  # dropped
        {"screen_id": 3, "type": "DIVABenefits", "amount": 10, "frequency": "hourly",
         "hours_worked": None},  # missing hours count as 0
        {"screen_id": 4, "type": "cOWorks", "amount": 1200, "frequency": "yearly"},
    ])  # fmt: skip
    assert card(db, defs, "income_streams") == [
        ("Wages", 0.5, round((435 + 217.5) / 2)),  # 326.25 -> 326
        ("CO Works", 0.25, 100.0),
        ("VA Disability", 0.25, 0.0),
    ]


def test_expense_table_has_no_hourly_case_and_labels_types(db, defs):
    screens(db, {}, {})
    insert(db, "mart_screener_expense", [
        {"screen_id": 1, "type": "childCare", "amount": 100, "frequency": "weekly"},
        {"screen_id": 2, "type": "childCare", "amount": 100, "frequency": "hourly"},  # raw
        {"screen_id": 2, "type": "rent", "amount": -5, "frequency": "monthly"},  # dropped
    ])  # fmt: skip
    assert card(db, defs, "common_expenses") == [("Child Care", 1.0, round((435 + 100) / 2))]


# ------------------------------------------------------------------------------ tables (§2.1)
def test_immediate_needs_hide_needs_nobody_flagged(db, defs):
    screens(db, {"needs_food": True}, {"needs_food": True, "needs_dental_care": True}, {})
    assert card(db, defs, "immediate_needs") == [
        ("Food", 2, pytest.approx(2 / 3)), ("Dental Care", 1, pytest.approx(1 / 3)),
    ]  # fmt: skip


def test_partner_table_ends_with_a_total_row(db, defs):
    screens(db, {"partner": "A"}, {"partner": "B"}, {"partner": "B"}, {"partner": "No Partner"})
    assert card(db, defs, "top_partners") == [
        ("B", 2, 0.5), ("A", 1, 0.25), ("No Partner", 1, 0.25), ("Total", 4, 1.0),
    ]  # fmt: skip


def test_county_table_leaves_out_empty_counties_and_totals_the_rest(db, defs):
    screens(db, {"county": "Wake"}, {"county": ""}, {"county": None}, {"county": "Durham"})
    assert card(db, defs, "top_counties") == [
        ("Durham", 1, 0.5), ("Wake", 1, 0.5), ("Total", 2, 1.0),
    ]  # fmt: skip


def test_partner_total_share_is_blank_without_screeners(db, defs):
    assert card(db, defs, "top_partners") == [("Total", 0, None)]


# ------------------------------------------------------------------------------ windows (§4.6)
def test_global_daily_screeners_cover_the_last_seven_days_including_today(db, defs):
    today = dt.date.today()
    days = [today - dt.timedelta(days=n) for n in (0, 6, 7)]
    screens(db, *({"submission_date": d} for d in days))
    assert card(db, defs, "daily_screeners_7d") == [(days[1], 1), (days[0], 1)]


# ------------------------------------------------------------------------------ CESN (§2.2)
def test_yes_no_cards_count_the_group_only_without_unanswered_no_first(db, defs):
    screens(
        db,
        {"is_home_owner": True, "is_renter": False, "has_old_car": True},
        {"is_home_owner": True, "is_renter": False, "has_old_car": False},
        {"is_home_owner": True, "is_renter": False, "has_old_car": None},
        {"is_home_owner": False, "is_renter": True, "has_old_car": True},
    )
    assert card(db, defs, "homeowners_old_car") == [("No", 1), ("Yes", 1)]
    assert card(db, defs, "renters_old_car") == [("Yes", 1)]


def test_provider_label_falls_back_to_the_code_and_skips_unnamed_providers(db, defs):
    screens(
        db,
        {"is_renter": True, "electric_provider": "xcel", "electric_provider_name": "Xcel Energy"},
        {"is_renter": True, "electric_provider": "lpea", "electric_provider_name": None},
        {"is_renter": True, "electric_provider": "lpea", "electric_provider_name": None},
        {"is_renter": True, "electric_provider": None, "electric_provider_name": None},
    )
    assert card(db, defs, "renters_electric_provider") == [("lpea", 2), ("Xcel Energy", 1)]


# ------------------------------------------------------------------------------ overlays (§2.3)
def test_cu_denver_is_the_exact_referrer_code_and_averages_include_zeros(db, defs):
    screens(
        db,
        {"referrer_code": "cudenver", "programs_matched": 3, "has_student": True,
         "non_tax_credit_benefits_annual": 1000, "tax_credits_annual": 200},
        {"referrer_code": "cudenver", "programs_matched": 0},
        {"referrer_code": "CUDenver", "programs_matched": 9},  # not the code: another case
        {"referrer_code": "cudenver ", "programs_matched": 9},  # nor with a trailing space
    )  # fmt: skip
    assert card(db, defs, "cudenver_completed_screeners") == [(2,)]
    assert card(db, defs, "cudenver_avg_programs_matched") == [(1.5,)]
    assert card(db, defs, "cudenver_total_annual_benefits") == [(1200.0,)]  # tax credits count
    assert card(db, defs, "cudenver_median_annual_benefits") == [(1200.0,)]  # zero value left out
    assert card(db, defs, "cudenver_student_completed_screeners") == [(1,)]


def test_cpal_value_buckets_and_lowest_of_those_matched(db, defs):
    cpal = "Child Poverty Action Lab (CPAL)"
    screens(
        db,
        *({"partner": cpal, "non_tax_credit_benefits_annual": b, "tax_credits_annual": t}
          for b, t in ((0, 0), (4000, 999.99), (4000, 1000), (40000, 0))),
        {"partner": "Other", "non_tax_credit_benefits_annual": 1},
    )  # fmt: skip
    assert card(db, defs, "cpal_value_distribution") == [
        ("$0", 1), ("$1-$4,999", 1), ("$5,000-$9,999", 1), ("$40,000+", 1),
    ]  # fmt: skip
    assert card(db, defs, "cpal_lowest_household_value") == [(4999.99,)]  # the $0 one is not
    assert card(db, defs, "cpal_highest_household_value") == [(40000.0,)]
    assert card(db, defs, "cpal_completed_screeners") == [(4,)]
