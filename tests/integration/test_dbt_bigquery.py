"""The BigQuery (GA4) tree compiles offline and every compiled model is valid BigQuery SQL."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from mfb_infra.dbt_runner import DBT_PROJECT_DIR, run_dbt

pytestmark = pytest.mark.dbt

MODELS = DBT_PROJECT_DIR / "models" / "bigquery"
MODEL_NAMES = sorted(p.stem for p in MODELS.rglob("*.sql"))
PROJECT, GA4_DATASET = "mfb-test-project", "analytics_123456"
MODES = {"full": False, "incremental": True}


def _throwaway_service_account(path: Path) -> Path:
    """A syntactically valid key nobody can use: google-auth loads it without network."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "offline",
                "private_key": pem,
                "client_email": f"offline@{PROJECT}.iam.gserviceaccount.com",
                "client_id": "0",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict[str, dict[str, str]]:
    """mode -> model name -> compiled SQL, from `dbt compile --target bigquery` offline."""
    work = tmp_path_factory.mktemp("bq")
    env = {
        "DBT_TARGET": "bigquery",
        "GCP_PROJECT_ID": PROJECT,
        "GCP_ANALYTICS_TABLE": GA4_DATASET,
        "GOOGLE_APPLICATION_CREDENTIALS": str(_throwaway_service_account(work / "sa.json")),
    }
    out: dict[str, dict[str, str]] = {}
    for mode, incremental in MODES.items():
        target = work / mode
        env_mode = env | {"DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(work / "logs")}
        run_dbt(
            [
                "compile",
                "--target",
                "bigquery",
                "--no-populate-cache",
                "--no-introspect",
                "--vars",
                json.dumps({"offline_compile": True, "offline_incremental": incremental}),
            ],
            env=env_mode,
        )
        files = (target / "compiled" / "mfb_analytics" / "models" / "bigquery").rglob("*.sql")
        out[mode] = {f.stem: f.read_text() for f in files}
    return out


@pytest.mark.parametrize("mode", MODES)
def test_every_bigquery_model_compiles_offline(compiled, mode):
    assert sorted(compiled[mode]) == MODEL_NAMES


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", MODEL_NAMES)
def test_compiled_model_parses_as_bigquery(compiled, mode, model):
    statements = sqlglot.parse(compiled[mode][model], read="bigquery", error_level=ErrorLevel.RAISE)
    assert len(statements) == 1 and statements[0] is not None


@pytest.mark.parametrize("model", [m for m in MODEL_NAMES if m.startswith("stg_")])
def test_staging_reads_the_ga4_export_pruned_from_the_epoch(compiled, model):
    sql = compiled["full"][model]
    assert f"`{PROJECT}`.`{GA4_DATASET}`.`events_*`" in sql
    assert "_table_suffix between '20260729' and '99999999'" in sql


@pytest.mark.parametrize("model", [m for m in MODEL_NAMES if m.startswith("mart_")])
def test_incremental_marts_read_a_constant_lookback_window(compiled, model):
    assert "current_date()" not in compiled["full"][model]
    assert "date_sub(current_date(), interval 3 day)" in compiled["incremental"][model]


# --- executing the compiled BigQuery SQL on fixture GA4 rows (DuckDB, via sqlglot) ----------
LAYERS = {
    "staging": "analytics_internal",
    "intermediate": "analytics_internal",
    "marts": "analytics",
}
T0 = 1785542400_000000  # 2026-08-01 00:00:00 UTC in microseconds
SECOND = 1_000_000
SITE = "https://screener.myfriendben.org"


def _event(suffix, offset_s, name, user, **params):
    day = suffix[-8:]
    return (suffix, day, T0 + offset_s * SECOND, name, user, params)


GA4_EVENTS = [
    # session (u1, 11), co: started, completed after 60 s, outbound click after results
    _event(
        "20260801", 0, "session_start", "u1", ga_session_id=11, medium="organic", source="google"
    ),
    _event("20260801", 0, "page_view", "u1", ga_session_id=11, page_location=f"{SITE}/co/step-1"),
    _event(
        "20260801",
        60,
        "page_view",
        "u1",
        ga_session_id=11,
        page_location=f"{SITE}/co/results/benefits",
    ),
    _event(
        "20260801",
        90,
        "outbound_link",
        "u1",
        ga_session_id=11,
        link_url="https://x.gov",
        link_domain="x.gov",
    ),
    _event("20260801", 1, "screener_form_start", "u1", ga_session_id=11, screener_state="co"),
    _event(
        "20260801",
        2,
        "screener_form_step",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        screener_step_name="zip-code",
        step_action="view",
    ),
    _event(
        "20260801",
        3,
        "screener_form_step",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        screener_step_name="zip-code",
        step_action="complete",
    ),
    _event(
        "20260801",
        4,
        "screener_form_error",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        screener_step_name="household-size",
    ),
    _event(
        "20260801",
        5,
        "screener_form_error",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        screener_step_name="household-size",
    ),
    _event(
        "20260801",
        6,
        "screener_form_back",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        screener_step_name="household-size",
    ),
    _event(
        "20260801",
        61,
        "screener_results_loaded",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
    ),
    _event(
        "20260801",
        62,
        "screener_program_more_info",
        "u1",
        ga_session_id=11,
        screener_state="co",
        screener_uid="A",
        program_id=7,
    ),
    # session (u2, 21), co: completed in 10 s (too fast to time), no session_start
    _event("20260801", 100, "page_view", "u2", ga_session_id=21, page_location=f"{SITE}/co/step-1"),
    _event(
        "20260801", 110, "page_view", "u2", ga_session_id=21, page_location=f"{SITE}/co/results"
    ),
    _event(
        "20260801",
        111,
        "screener_results_loaded",
        "u2",
        ga_session_id=21,
        screener_state="co",
        screener_uid="B",
    ),
    _event(
        "20260801",
        112,
        "screener_apply_click",
        "u2",
        ga_session_id=21,
        screener_state="co",
        screener_uid="B",
    ),
    # screening B comes back in a second session the next day
    _event(
        "20260802",
        86400,
        "screener_results_loaded",
        "u2",
        ga_session_id=22,
        screener_state="co",
        screener_uid="B",
    ),
    # (u3, 31) nc landing only; (u6, 11) reuses u1's session id: a different session
    _event("20260802", 86400, "page_view", "u3", ga_session_id=31, page_location=f"{SITE}/nc"),
    _event("20260802", 86401, "page_view", "u6", ga_session_id=11, page_location=f"{SITE}/co"),
    # CESN: the landing event has no state, the session is CESN anyway
    _event("20260802", 86500, "screener_form_start", "u7", ga_session_id=71),
    _event(
        "20260802",
        86501,
        "screener_form_step",
        "u7",
        ga_session_id=71,
        screener_state="cesn",
        screener_step_name="cesn-utility-status",
        step_action="view",
    ),
    # before the epoch, and an intraday shard: never read
    _event(
        "20260728",
        -4 * 86400,
        "page_view",
        "u4",
        ga_session_id=41,
        page_location=f"{SITE}/co/step-1",
    ),
    _event(
        "intraday_20260802",
        86402,
        "page_view",
        "u5",
        ga_session_id=51,
        page_location=f"{SITE}/co/step-1",
    ),
]


def _ga4_param(key, value):
    is_int = isinstance(value, int)
    return {
        "key": key,
        "value": {
            "string_value": None if is_int else value,
            "int_value": value if is_int else None,
            "double_value": None,
        },
    }


@pytest.fixture(scope="module")
def ga4_duckdb(compiled):
    """The full-build models, transpiled to DuckDB and materialized over GA4_EVENTS."""
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE SCHEMA analytics_internal; CREATE SCHEMA analytics")
    con.execute(
        "CREATE TABLE events_fixture (_table_suffix VARCHAR, event_date VARCHAR, "
        "event_timestamp BIGINT, event_name VARCHAR, user_pseudo_id VARCHAR, user_id VARCHAR, "
        "event_bundle_sequence_id BIGINT, batch_event_index BIGINT, event_params STRUCT(key "
        "VARCHAR, value STRUCT(string_value VARCHAR, int_value BIGINT, double_value DOUBLE))[])"
    )
    for i, (suffix, day, ts, name, user, params) in enumerate(GA4_EVENTS):
        con.execute(
            "INSERT INTO events_fixture VALUES (?, ?, ?, ?, ?, NULL, ?, 0, ?)",
            [suffix, day, ts, name, user, i, [_ga4_param(k, v) for k, v in params.items()]],
        )
    by_layer = {layer: sorted(p.stem for p in (MODELS / layer).glob("*.sql")) for layer in LAYERS}
    for layer, schema in LAYERS.items():
        for model in by_layer[layer]:
            sql = (
                compiled["full"][model]
                .replace(f"`{PROJECT}`.`{GA4_DATASET}`.`events_*`", "events_fixture")
                .replace(f"`{PROJECT}`.", "")
            )
            duck = sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]
            kind = "TABLE" if layer == "marts" else "VIEW"
            con.execute(f"CREATE {kind} {schema}.{model} AS {duck}")
    return con


def _rows(con, sql):
    return con.execute(sql).fetchall()


def test_kpi_summary_counts_sessions_starts_completions_and_clicks(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT sessions, users, started, completed, "
        "clicked_after_completion, avg_completion_seconds FROM analytics.mart_ga_kpi_summary "
        "WHERE session_date = DATE '2026-08-01' AND state_code = 'co'",
    )
    assert rows == [(2, 2, 2, 2, 1, 60.0)]


def test_kpi_summary_reads_nothing_before_the_epoch_or_from_intraday_shards(ga4_duckdb):
    rows = _rows(
        ga4_duckdb, "SELECT min(session_date), sum(sessions) FROM analytics.mart_ga_kpi_summary"
    )
    assert rows == [(datetime.date(2026, 8, 1), 4)]


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


def test_form_funnel_counts_sessions_per_step_and_error_events(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_step_name, sessions_viewed, sessions_completed, "
        "sessions_back, sessions_errored, error_events "
        "FROM analytics.mart_screener_form_funnel WHERE screener_state = 'co' ORDER BY 1",
    )
    assert rows == [
        ("__form_start__", 1, 0, 0, 0, 0),
        ("household-size", 0, 0, 1, 1, 2),
        ("zip-code", 1, 1, 0, 0, 0),
    ]


def test_form_funnel_flags_a_whole_session_as_cesn(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_step_name, screener_state, is_cesn "
        "FROM analytics.mart_screener_form_funnel "
        "WHERE event_date_parsed = DATE '2026-08-02' ORDER BY 1",
    )
    assert rows == [("__form_start__", None, True), ("cesn-utility-status", "cesn", True)]


def test_screening_funnel_is_cumulative_per_screening(ga4_duckdb):
    rows = _rows(
        ga4_duckdb,
        "SELECT screener_uid, screener_state, distinct_sessions, "
        "saw_results, viewed_details, applied "
        "FROM analytics.mart_screener_screening_funnel ORDER BY 1",
    )
    assert rows == [("A", "co", 1, True, True, False), ("B", "co", 2, True, True, True)]
