"""The BigQuery (GA4) tree: compiles offline, every compiled model is valid BigQuery SQL, and
every model runs (transpiled to DuckDB) on the fixture events of ga4_fixture.py with results
worked out by hand from those rows."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from mfb_infra.dbt_runner import DBT_PROJECT_DIR
from mfb_infra.ga4_fixture import GA4_EVENTS
from mfb_infra.ga4_local import (
    GA4_DATASET,
    PROJECT,
    Ga4DuckDB,
    compile_bigquery,
    compiled_data_tests,
)

pytestmark = pytest.mark.dbt

MODELS = DBT_PROJECT_DIR / "models" / "bigquery"
MODEL_NAMES = sorted(p.stem for p in MODELS.rglob("*.sql"))
MODES = {"full": False, "incremental": True}


@pytest.fixture(scope="module")
def compiled_with_manifest(tmp_path_factory) -> dict[str, tuple[dict[str, str], dict]]:
    """mode -> (model name -> compiled SQL, manifest), `dbt compile --target bigquery` offline."""
    work = tmp_path_factory.mktemp("bq")
    out = {mode: compile_bigquery(work, incremental=inc) for mode, inc in MODES.items()}
    DATA_TESTS.update(compiled_data_tests(work))
    nodes = out["full"][1]["nodes"]
    MODEL_CONFIGS.update(
        {n["name"]: n["config"] for n in nodes.values() if n["resource_type"] == "model"}
    )
    return out


@pytest.fixture(scope="module")
def compiled(compiled_with_manifest) -> dict[str, dict[str, str]]:
    return {mode: models for mode, (models, _manifest) in compiled_with_manifest.items()}


MODEL_CONFIGS: dict[str, dict] = {}  # model -> resolved dbt config (filled by `compiled`)
DATA_TESTS: dict[str, str] = {}  # data test name -> compiled SQL (filled by `compiled`)


@pytest.mark.parametrize("mode", MODES)
def test_every_bigquery_model_compiles_offline(compiled, mode):
    assert sorted(compiled[mode]) == MODEL_NAMES


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", MODEL_NAMES)
def test_compiled_model_parses_as_bigquery(compiled, mode, model):
    statements = sqlglot.parse(compiled[mode][model], read="bigquery", error_level=ErrorLevel.RAISE)
    assert len(statements) == 1 and statements[0] is not None


def _folder(model: str) -> str:
    return next(MODELS.rglob(f"{model}.sql")).parent.name


MARTS = [m for m in MODEL_NAMES if m.startswith("mart_")]
INCREMENTAL_MARTS = [m for m in MARTS if _folder(m) in ("daily", "traffic")]
FULL_REBUILD_MARTS = [m for m in MARTS if _folder(m) == "screening"]


@pytest.mark.parametrize("model", [m for m in MODEL_NAMES if m.startswith("stg_")])
def test_staging_reads_the_ga4_export_between_constant_suffix_bounds(compiled, model):
    sql = compiled["full"][model]
    assert f"`{PROJECT}`.`{GA4_DATASET}`.`events_*`" in sql
    assert "_table_suffix between '20260118' and '99999999'" in sql


@pytest.mark.parametrize("model", [m for m in MODEL_NAMES if m.startswith("stg_")])
def test_staging_views_have_no_window_functions(compiled, model):
    # A filter on table_suffix can only be pushed below a window partitioned by another
    # column by changing its result, so BigQuery would scan every shard of such a view.
    tree = sqlglot.parse_one(compiled["full"][model], read="bigquery")
    assert list(tree.find_all(sqlglot.exp.Window)) == []


@pytest.mark.parametrize("model", INCREMENTAL_MARTS)
def test_incremental_marts_scan_from_the_epoch_on_full_builds(compiled, model):
    sql = compiled["full"][model]
    assert "current_date()" not in sql
    assert "table_suffix >= '20260729'" in sql


@pytest.mark.parametrize("model", INCREMENTAL_MARTS)
def test_incremental_marts_read_a_constant_lookback_window(compiled, model):
    assert "date_sub(current_date(), interval 3 day)" in compiled["incremental"][model]


@pytest.mark.parametrize("model", FULL_REBUILD_MARTS)
def test_full_rebuild_marts_do_not_depend_on_the_run_mode(compiled, model):
    assert compiled["full"][model] == compiled["incremental"][model]
    assert "current_date()" not in compiled["full"][model]


@pytest.mark.parametrize("model", MARTS)
def test_mart_materialization_follows_its_folder(compiled, model):
    config = MODEL_CONFIGS[model]
    expected = "table" if model in FULL_REBUILD_MARTS else "incremental"
    assert config["materialized"] == expected
    if expected == "incremental":
        assert config["incremental_strategy"] == "insert_overwrite"
        assert config["on_schema_change"] == "fail"


@pytest.mark.parametrize("model", INCREMENTAL_MARTS)
def test_partition_and_cluster_columns_exist_in_the_mart(ga4_duckdb, model):
    config = MODEL_CONFIGS[model]
    built = {r[0]: r[1] for r in _rows(ga4_duckdb, f"DESCRIBE analytics.{model}")}
    assert built[config["partition_by"]["field"]] == "DATE"
    assert set(config["cluster_by"]) <= set(built)


def test_every_mart_declares_its_grain_as_a_uniqueness_test(compiled):
    tested = {
        m
        for m in MARTS
        for name, sql in DATA_TESTS.items()
        if name.startswith("unique_combination_of_columns") and f"`{m}`" in sql
    }
    assert tested == set(MARTS)


def test_data_tests_pass_on_the_fixture(ga4_duckdb):
    failing = {}
    for name, sql in DATA_TESTS.items():
        duck = sqlglot.transpile(sql.replace(f"`{PROJECT}`.", ""), read="bigquery", write="duckdb")
        rows = _rows(ga4_duckdb, f"SELECT count(*) FROM ({duck[0]}) AS t")[0][0]
        if rows:
            failing[name] = rows
    assert DATA_TESTS and failing == {}


def test_the_marts_folder_holds_the_inventorys_33_marts():
    assert len(MARTS) == 33


# --- executing the compiled BigQuery SQL on fixture GA4 rows (DuckDB, via sqlglot) ----------
DAY1, DAY2 = datetime.date(2026, 8, 1), datetime.date(2026, 8, 2)


@pytest.fixture(scope="module")
def ga4_duckdb(compiled_with_manifest):
    """The full-build models, transpiled to DuckDB and materialized over GA4_EVENTS in
    dependency order (mfb_infra.ga4_local, which `mfb-infra preview` uses too)."""
    return Ga4DuckDB.build(GA4_EVENTS, compiled=compiled_with_manifest["full"]).con


INCREMENTAL_TODAY = "date '2026-08-05'"  # lookback 3 days: recomputes 2026-08-02 onwards


@pytest.fixture(scope="module")
def ga4_incremental(ga4_duckdb, compiled):
    """Each incremental mart's incremental-run SELECT, with today = 2026-08-05, as a table."""
    ga4_duckdb.execute("CREATE SCHEMA analytics_incremental")
    for model in INCREMENTAL_MARTS:
        sql = (
            compiled["incremental"][model]
            .replace("current_date()", INCREMENTAL_TODAY)
            .replace(f"`{PROJECT}`.", "")
        )
        duck = sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]
        ga4_duckdb.execute(f"CREATE TABLE analytics_incremental.{model} AS {duck}")
    return ga4_duckdb


def _rows(con, sql):
    return con.execute(sql).fetchall()


def _key(user, sid):
    return json.dumps({"user_pseudo_id": user, "ga_session_id": sid}, separators=(",", ":"))


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_model_has_rows_on_the_fixture(ga4_duckdb, model):
    schema = "analytics" if model.startswith("mart_") else "analytics_internal"
    assert _rows(ga4_duckdb, f"SELECT count(*) FROM {schema}.{model}")[0][0] > 0


def test_every_mart_has_a_hand_worked_test():
    source = Path(__file__).read_text()
    unchecked = [m for m in MARTS if not re.search(rf"FROM analytics\.{m}\b", source)]
    assert unchecked == []


@pytest.mark.parametrize("model", INCREMENTAL_MARTS)
def test_incremental_run_rebuilds_the_lookback_days_as_a_full_build_does(ga4_incremental, model):
    date = "session_date" if _folder(model) == "traffic" else "event_date_parsed"
    full = f"(SELECT * FROM analytics.{model} WHERE {date} >= DATE '2026-08-02')"
    incremental = f"(SELECT * FROM analytics_incremental.{model})"
    counts = _rows(
        ga4_incremental,
        f"SELECT (SELECT count(*) FROM ({full} EXCEPT ALL {incremental})), "
        f"(SELECT count(*) FROM ({incremental} EXCEPT ALL {full})), "
        f"(SELECT count(*) FROM {incremental})",
    )
    assert counts[0][:2] == (0, 0)


def test_incremental_fixture_has_rows_in_the_lookback_window(ga4_incremental):
    rows = _rows(
        ga4_incremental,
        "SELECT count(*) FROM analytics_incremental.mart_screener_form_funnel "
        "WHERE is_cesn AND screener_state IS NULL AND screener_step_name = 'language'",
    )
    # (u10, 101) on 08-02 is CESN only through its 08-01 row: the scan needs a day of margin
    assert rows == [(1,)]


def test_marts_yml_documents_exactly_the_columns_each_mart_builds(ga4_duckdb):
    import yaml

    documented = {
        m["name"]: [c["name"] for c in m.get("columns") or []]
        for m in yaml.safe_load((MODELS / "marts" / "_marts.yml").read_text())["models"]
    }
    built = {m: [r[0] for r in _rows(ga4_duckdb, f"DESCRIBE analytics.{m}")] for m in MARTS}
    assert documented == built


# --- traffic ---------------------------------------------------------------------------------
def test_kpi_summary_counts_sessions_starts_completions_and_clicks(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT sessions, users, started, completed, "
        "clicked_after_completion, avg_completion_seconds FROM analytics.mart_ga_kpi_summary "
        "WHERE session_date = DATE '2026-08-01' AND state_code = 'co'",
    )
    # u1: step-1 -> results in 60 s, outbound click after results; u2: 10 s (untimed)
    assert rows == [(2, 2, 2, 2, 1, 60.0)]


def test_kpi_summary_reads_nothing_before_the_epoch_or_from_intraday_shards(ga4_duckdb):
    rows = _rows(
        ga4_duckdb, "SELECT min(session_date), sum(sessions) FROM analytics.mart_ga_kpi_summary"
    )
    # session_start rows since the epoch: u1, u2 (D1), u3, u6 (D2); not u8 (07-20), u4, u5
    assert rows == [(DAY1, 4)]


def test_session_key_separates_users_reusing_a_session_id(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT state_code, sessions FROM analytics.mart_ga_kpi_summary "
        "WHERE session_date = DATE '2026-08-02' ORDER BY 1",
    )
    assert rows == [("co", 1), ("nc", 1)]


def test_traffic_mediums_default_to_none_and_direct(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT session_medium, session_source, sessions "
        "FROM analytics.mart_ga_traffic_mediums WHERE session_date = DATE '2026-08-01' "
        "ORDER BY 1",
    )
    assert rows == [("(none)", "(direct)", 1), ("organic", "google", 1)]


def test_clicked_links_counts_results_page_clicks_by_domain(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT event_date_parsed, state_code, link_domain, is_outbound, clicks, sessions, users "
        "FROM analytics.mart_ga_clicked_links ORDER BY link_domain",
    )
    # the z.org click is on a step-1 page; y.org has an empty link_domain param
    assert rows == [(DAY1, "co", "x.gov", "true", 1, 1, 1), (DAY1, "co", "y.org", "true", 1, 1, 1)]


# --- form ------------------------------------------------------------------------------------
def test_form_funnel_counts_sessions_per_step_and_error_events(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_step_name, step_label, sessions_viewed, sessions_completed, "
        "sessions_back, sessions_errored, error_events "
        "FROM analytics.mart_screener_form_funnel WHERE screener_state = 'co' ORDER BY 1",
    )
    assert rows == [
        ("__form_start__", "Started Screener", 1, 0, 0, 0, 0),
        ("household-size", "Household Size", 0, 0, 1, 1, 2),
        ("member-details", "Member Details", 1, 0, 0, 0, 0),
        ("zip-code", "Zip Code", 1, 1, 0, 0, 0),
    ]


def test_form_funnel_flags_a_whole_session_as_cesn(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_step_name, screener_state, is_cesn "
        "FROM analytics.mart_screener_form_funnel "
        "WHERE event_date_parsed = DATE '2026-08-02' ORDER BY 1, 2",
    )
    # (u7, 71): the landing row has no state; (u10, 101): only yesterday's row had one
    assert rows == [
        ("__form_start__", None, True),
        ("cesn-appliances", "cesn", True),
        ("cesn-utility-status", "cesn", True),
        ("language", "cesn", True),
        ("language", None, True),
    ]


def test_form_funnel_keeps_null_state_rows_apart(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_state, screener_step_name, sessions_viewed "
        "FROM analytics.mart_screener_form_funnel WHERE event_date_parsed = DATE '2026-08-01' "
        "AND screener_step_name IN ('language', 'disclaimer') ORDER BY 2",
    )
    assert rows == [("nc", "disclaimer", 1), (None, "language", 1)]


def test_form_errors_label_fields_and_default_the_problem(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT step_label, field_label, problem, total_errors, screenings_with_error "
        "FROM analytics.mart_screener_form_errors ORDER BY field_label",
    )
    assert rows == [
        ("Household Size", "Household size", "too big", 1, 1),
        ("Household Size", "Income amount", "(no detail captured)", 1, 1),
    ]


def test_step_views_by_screening_is_one_row_per_screening_step_and_day(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT event_date_parsed, screener_uid, screener_step_name, step_label, screener_state "
        "FROM analytics.mart_screener_step_views_by_screening ORDER BY 2, 3",
    )
    assert rows == [
        (DAY1, "A", "member-details", "Member Details", "co"),
        (DAY1, "A", "zip-code", "Zip Code", "co"),
        (DAY2, "E", "cesn-appliances", "Appliances", "cesn"),
    ]


def test_step_facts_flags_views_errors_and_back_per_session_step(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_step_name, viewed, errored, navigated_back, error_events, "
        "event_date_parsed, screener_state, is_cesn FROM analytics.mart_screener_step_facts "
        f"WHERE session_key = '{_key('u1', 11)}' ORDER BY 1",
    )
    assert rows == [
        ("household-size", False, True, True, 2, DAY1, "co", False),
        ("member-details", True, False, False, 0, DAY1, "co", False),
        ("zip-code", True, False, False, 0, DAY1, "co", False),
    ]


def test_furthest_step_takes_the_deepest_rank_and_the_greatest_state(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT session_key, furthest_step_rank, event_date_parsed, screener_state, is_cesn "
        "FROM analytics.mart_screener_furthest_step ORDER BY 1",
    )
    # results loads count as rank 12; (u8, 81) is before the epoch; u9 reached zip code (3)
    assert sorted(rows) == sorted(
        [
            (_key("u1", 11), 12, DAY1, "co", False),
            (_key("u2", 21), 12, DAY1, "co", False),
            (_key("u2", 22), 12, DAY2, "co", False),
            (_key("u7", 71), 1, DAY2, "cesn", True),
            (_key("u8", 82), 12, DAY1, "co", False),
            (_key("u9", 91), 3, DAY1, "nc", False),
            (_key("u10", 101), 1, DAY2, None, True),
        ]
    )


def test_step_ladder_publishes_22_steps_with_12_ranks(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT count(*), count(funnel_rank), min(funnel_rank), max(funnel_rank), "
        "max(CASE WHEN step_slug = 'household-members' THEN step_label END) "
        "FROM analytics.mart_screener_step_ladder",
    )
    assert rows == [(22, 12, 1, 12, "Household & Member Details")]


def test_cesn_combined_ladder_has_rungs_zero_to_eleven(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT funnel_rank, step_slug FROM analytics.mart_screener_cesn_combined_ladder "
        "WHERE funnel_rank IN (0, 6, 11) ORDER BY 1",
    )
    assert rows == [(0, "__form_start__"), (6, "cesn-electric-provider"), (11, "results")]


def test_cesn_funnel_ranks_cesn_sessions_on_the_combined_ladder(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT session_key, furthest_step_rank, event_date_parsed, screener_state, cesn_path "
        "FROM analytics.mart_screener_cesn_funnel",
    )
    # form_start 0, language 1, utility status 8; appliances is off-ladder but implies homeowner
    assert sorted(rows) == [
        (_key("u10", 101), 1, DAY2, "cesn", None),
        (_key("u7", 71), 8, DAY2, "cesn", "homeowner"),
    ]


# --- screenings ------------------------------------------------------------------------------
def test_screening_funnel_counts_every_screening_seen_on_any_event(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_uid, screener_state, event_date_parsed, is_cesn, distinct_sessions, "
        "saw_results, viewed_details, applied "
        "FROM analytics.mart_screener_screening_funnel ORDER BY 1",
    )
    assert rows == [
        ("A", "co", DAY1, False, 1, True, True, False),
        ("B", "co", DAY1, False, 2, True, True, True),
        # first seen before the epoch with a display-name state: keeps its real first date
        ("C", "co", datetime.date(2026, 7, 20), False, 2, True, False, False),
        ("E", "cesn", DAY2, True, 1, False, False, False),
    ]


def test_results_revisits_count_lifetime_loads_from_the_first_load_day(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_uid, results_load_count, event_date_parsed, screener_state, is_cesn "
        "FROM analytics.mart_screener_results_revisits ORDER BY 1",
    )
    assert rows == [
        ("A", 1, DAY1, "co", False),
        ("B", 2, DAY1, "co", False),
        ("C", 2, datetime.date(2026, 7, 20), "co", False),
    ]


def test_results_outcomes_per_day(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT event_date_parsed, screenings_loaded, screenings_none_eligible, "
        "screenings_error, screenings_error_recovered, avg_program_count, avg_estimated_value "
        "FROM analytics.mart_screener_results_outcomes WHERE screener_state = 'co' ORDER BY 1",
    )
    # D1: A (3 programs, $1200.50), B (1, $100), C (2, $500); D2: B again + the '(not set)' proxy
    assert rows == [(DAY1, 3, 0, 1, 1, 2.0, 600.17), (DAY2, 1, 1, 0, 0, 1.0, 100.0)]


def test_results_outcomes_medians(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT median_program_count, median_estimated_value "
        "FROM analytics.mart_screener_results_outcomes "
        "WHERE screener_state = 'co' AND event_date_parsed = DATE '2026-08-01'",
    )
    assert rows == [(2.0, 500.0)]


def test_scroll_depth_partitions_screenings_by_their_deepest_threshold(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT event_date_parsed, tab_name, furthest_depth, screenings_reached_depth "
        "FROM analytics.mart_screener_scroll_depth ORDER BY 2, 3",
    )
    # A: 25 then '50' (text); B: 25 on D1, 75 on D2 (dated by its first scroll)
    assert rows == [
        (DAY1, "additional_resources", 100, 1),
        (DAY1, "long_term_benefits", 50, 1),
        (DAY1, "long_term_benefits", 75, 1),
    ]


def test_section_engagement_counts_actions_per_screening(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_uid, section, action, total_actions, event_date_parsed "
        "FROM analytics.mart_screener_section_engagement ORDER BY 1, 2, 3",
    )
    assert rows == [
        ("A", "Household Members", "add", 2, DAY1),
        ("A", "Household Members", "delete", 1, DAY1),
        ("A", "Income Sources", "add", 2, DAY1),
        ("A", "Income Sources", "delete", 1, DAY1),
        ("B", "Household Members", "(unknown)", 1, DAY2),
    ]


def test_member_income_counts_member_pages_and_their_income_actions(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT event_date_parsed, screener_state, member_pages_viewed, pages_added_income, "
        "pages_deleted_income FROM analytics.mart_screener_member_income",
    )
    # pages (A, 0) and (A, 1); the view and the add without a member_index are dropped
    assert rows == [(DAY1, "co", 2, 1, 1)]


# --- results page ----------------------------------------------------------------------------
def test_program_interactions_name_programs_and_drop_the_placeholder(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT event_date_parsed, program_id, program_name, interaction_type, document_name, "
        "total_interactions, screenings_with_interaction "
        "FROM analytics.mart_screener_program_interactions ORDER BY 2, 4",
    )
    assert rows == [
        (DAY1, "7", "SNAP", "document_download", "Proof of income", 1, 1),
        (DAY1, "7", "SNAP", "document_shown", "Proof of income", 1, 1),
        (DAY1, "7", "SNAP", "more_info", None, 1, 1),
        (DAY1, "7", "SNAP", "shown", None, 1, 1),
        (DAY1, "9", "WIC", "apply", None, 1, 1),
        (DAY1, "9", "WIC", "shown", None, 1, 1),
    ]


def test_program_interactions_by_screening_keeps_the_placeholder(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT event_date_parsed, interaction_type, program_id, screener_uid, count(*) "
        "FROM analytics.mart_screener_program_interactions_by_screening "
        "GROUP BY ALL ORDER BY 1, 3, 2",
    )
    assert rows == [
        (DAY1, "document_download", "7", "A", 1),
        (DAY1, "document_shown", "7", "A", 1),
        (DAY1, "more_info", "7", "A", 1),
        (DAY1, "shown", "7", "A", 1),
        (DAY1, "apply", "9", "B", 1),
        (DAY1, "shown", "9", "A", 1),
        (DAY2, "shown", "(not set)", "B", 1),
    ]


def test_navigator_engagement_counts_impressions_and_contacts(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT program_name, navigator_id, navigator_name, contact_method, total_engagements, "
        "screenings_with_engagement FROM analytics.mart_screener_navigator_engagement "
        "ORDER BY contact_method",
    )
    assert rows == [
        ("SNAP", "n1", "Nav One", "__shown__", 1, 1),
        ("SNAP", "n1", "Nav One", "phone", 2, 1),
    ]


RESOURCE_ROWS = [
    ("resource_click", "Food Bank", "website"),
    ("resource_more_info", "Legal Aid", None),
    ("resource_shown", "Food Bank", None),
    ("resource_shown", "Legal Aid", None),
    ("tab_open", "additional_resources", None),
]


def test_resource_engagement_metrics(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT metric, dimension, contact_method, total_clicks, distinct_screenings, is_cesn "
        "FROM analytics.mart_screener_resource_engagement ORDER BY 1, 2",
    )
    assert rows == [(*r, 1, 1, False) for r in RESOURCE_ROWS]


def test_resource_engagement_by_screening_is_distinct_per_screening(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT metric, dimension, contact_method, screener_uid "
        "FROM analytics.mart_screener_resource_engagement_by_screening ORDER BY 1, 2",
    )
    assert rows == [(*r, "A") for r in RESOURCE_ROWS]


def test_help_metrics_and_resource_labels(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT metric, dimension, screener_step_name, step_label, total_clicks, "
        "distinct_screenings FROM analytics.mart_screener_help ORDER BY 1, 2",
    )
    assert rows == [
        ("get_help_click", "results", None, None, 2, 2),
        ("help_click", "(unspecified)", "zip-code", "Zip Code", 1, 1),
        ("help_click", "household-size-help", "household-size", "Household Size", 1, 1),
        ("more_help_resource_click", "2-1-1 Colorado", None, None, 1, 1),
        ("more_help_resource_click", "Food Pantry", None, None, 1, 1),
        ("more_help_resource_click", "Resource #2", None, None, 1, 1),
    ]


def test_filter_usage_per_type(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT filter_type, screenings_engaged, total_engagements "
        "FROM analytics.mart_screener_filter_usage ORDER BY 1",
    )
    assert rows == [("(unknown)", 1, 1), ("citizenship", 1, 2)]


def test_nps_scores_categories_and_feedback(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_state, nps_score, nps_category, scores_submitted, reasons_submitted, "
        "reasons_skipped, feedback_clicks FROM analytics.mart_screener_nps ORDER BY 1, 2",
    )
    # B's score arrives as the text '3'; the footer feedback click has no state param
    assert rows == [
        ("co", 3, "Detractor", 1, 0, 0, 0),
        ("co", 9, "Promoter", 1, 1, 0, 0),
        ("co", None, None, 0, 0, 1, 0),
        (None, None, None, 0, 0, 0, 1),
    ]


def test_results_back_counts_screenings_and_clicks(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_state, screenings_went_back, total_clicks "
        "FROM analytics.mart_screener_results_back",
    )
    assert rows == [("co", 2, 3)]


def test_saves_has_three_disjoint_row_kinds(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT save_channel, save_action, total_saves, distinct_screenings "
        "FROM analytics.mart_screener_saves ORDER BY 1, 2",
    )
    assert rows == [
        ("__popup_shown__", "open", 1, 1),
        ("__saved__", "send", None, 2),
        ("email", "open", 1, None),
        ("email", "send", 2, None),
        ("sms", "send", 1, None),
    ]


def test_shares_per_location_channel_and_action(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_state, share_location, share_channel, share_provider, share_action, "
        "total_shares, screenings_with_share FROM analytics.mart_screener_shares ORDER BY 2, 5",
    )
    # the footer share fires before a screening exists: state from the URL, counted by session
    assert rows == [
        ("co", "footer", None, None, "open", 1, 1),
        ("co", "results_popup", "email", "gmail", "open", 1, 1),
        ("co", "results_popup", "email", "gmail", "send", 1, 1),
    ]


# --- steps and chrome ------------------------------------------------------------------------
def test_confirmation_edits_label_sections(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT section_label, edits, distinct_screenings "
        "FROM analytics.mart_screener_confirmation_edits ORDER BY 1",
    )
    assert rows == [("Household & Member Details", 3, 2), ("Zip Code", 1, 1), ("customThing", 1, 1)]


def test_signup_consent_counts_distinct_opting_screenings(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT signups, sms_opt_ins, email_opt_ins FROM analytics.mart_screener_signup_consent",
    )
    assert rows == [(2, 2, 1)]


def test_language_switches_take_the_state_from_the_url_when_the_param_is_missing(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT event_date_parsed, screener_state, language_name, total_changes, "
        "distinct_screenings FROM analytics.mart_screener_language ORDER BY 1",
    )
    assert rows == [(DAY1, "co", "Spanish", 2, 2), (DAY2, "nc", "Vietnamese", 1, 1)]


def test_link_clicks_drop_footer_links_and_group_edit_links(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT link_group, link_location, link_label, screener_step_name, total_clicks, "
        "screenings FROM analytics.mart_screener_link_clicks ORDER BY 1, 3",
    )
    assert rows == [
        ("edit_nav", None, "Additional Resources — Edit Step", None, 1, 1),
        ("edit_nav", "results_needs", "Food help", None, 1, 1),
        ("in_step", "zip_code_inline", "Learn more", "zip-code", 1, 1),
        ("in_step", "disclaimer_inline", "Public Charge", "disclaimer", 1, 1),
    ]


def test_footer_engagement_classifies_chrome_clicks_per_session(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT element_group, element, session_key, screener_state "
        "FROM analytics.mart_screener_footer_engagement ORDER BY 1, 2, 3",
    )
    s1, s2, s4 = _key("u1", 11), _key("u2", 21), _key("u3", 31)
    assert rows == [
        ("feedback_share", "Report a Bug", s2, "co"),
        ("feedback_share", "Share", s2, "co"),
        ("nav", "Changed Language", s1, "co"),
        ("nav", "Changed Language", s2, "co"),
        ("nav", "Changed Language", s4, "nc"),
        ("nav", "Logo (header)", s1, "co"),
        ("nav", "Logo (unknown)", s4, "nc"),
        ("nav", "Privacy Policy", s1, "co"),
        ("nav", "Terms and Conditions", s1, "co"),
        ("social", "Facebook", s1, "co"),
    ]
