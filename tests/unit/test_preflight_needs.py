"""What `mfb-infra preflight` derives from the stack's content (no database here; the live
catalog side runs on real Postgres in tests/integration/test_preflight.py)."""

from __future__ import annotations

import pytest

from mfb_infra import preflight


@pytest.fixture(scope="module")
def needs():
    return preflight.stack_needs("production")


def test_columns_resolve_through_aliases_and_ctes():
    sql = """
        WITH s AS (SELECT d.id, d.county AS c FROM analytics.mart_screener_data AS d)
        SELECT s.c, m.age FROM s JOIN analytics.mart_householdmembers m ON m.screen_id = s.id
    """
    tables, pairs, unresolved = preflight.card_columns(
        sql, "analytics", preflight.contract_schema()
    )
    assert tables == {"mart_screener_data", "mart_householdmembers"}
    assert pairs == {
        ("mart_screener_data", "id"),
        ("mart_screener_data", "county"),
        ("mart_householdmembers", "age"),
        ("mart_householdmembers", "screen_id"),
    }
    assert unresolved == []


def test_optional_filter_clauses_count_as_needed():
    sql = "SELECT count(*) FROM analytics.mart_screener_data WHERE 1 = 1 [[AND {{county}}]]"
    sql = sql.replace("{{county}}", "analytics.mart_screener_data.county = {{county}}")
    _t, pairs, _u = preflight.card_columns(sql, "analytics", preflight.contract_schema())
    assert ("mart_screener_data", "county") in pairs


def test_every_column_the_cards_read_is_in_the_content_contract(needs):
    # the derivation agrees with dashboards/content/marts.yaml, the contract with dbt/
    contract = preflight.contract_schema()
    derived = {(t, c) for t, c in needs.columns if t != "?"}
    assert derived and all(c in contract[t] for t, c in derived)


def test_a_known_card_needs_its_column(needs):
    who = needs.columns[("mart_screener_data", "county")]
    assert (
        "card 'Which Counties Did The Screeners Come From?' (dashboards/sql/top_counties.sql)"
        in who
    )


def test_tenant_marts_need_white_label_id(needs):
    assert needs.tenant_tables == {
        "mart_screener_data", "mart_householdmembers", "mart_income", "mart_screener_expense",
        "mart_current_benefits", "mart_qualified_benefits", "mart_referrer_codes",
    }  # fmt: skip
    assert all((t, "white_label_id") in needs.columns for t in needs.tenant_tables)


def test_a_column_no_model_documents_says_so(needs):
    catalog = preflight.Catalog(
        schema_exists=True,
        columns={t: set(c) for t, c in preflight.contract_schema().items()},
        kinds={},
        rls=dict.fromkeys(preflight.contract_schema(), True),
        roles={},
    )
    needs = preflight.Needs(schema="analytics", mode="heroku")
    needs.need_column("mart_income", "currency", "card 'X' (dashboards/sql/x.sql)")
    (problem,) = preflight.compare(needs, catalog, "production").problems
    assert problem.subject == "analytics.mart_income.currency"
    assert "documents no column currency" in problem.message


def test_missing_schema_says_to_run_dbt_first(needs):
    catalog = preflight.Catalog(False, {}, {}, {}, {}, database="d2ng")
    (problem,) = preflight.compare(needs, catalog, "production").problems
    assert problem.subject == "schema analytics" and "dbt build" in problem.message
