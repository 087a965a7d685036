"""MetabaseSetup and Database providers driven as the engine would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MB, double_only
from harness import CheckFailed, Engine
from metabase_double import MetabaseDouble

from components.metabase.client import Credentials, MetabaseClient, MetabaseConfigError
from components.metabase.database import DatabaseProvider, SyncTimeout
from components.metabase.setup import SetupProvider

FAST_SYNC = {"sync_timeout_seconds": 5, "sync_poll_seconds": 0.02}


def db_inputs(mb: MB, wh: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": mb.name("MFB PostgreSQL North Carolina"),
        "engine": "postgres",
        "details": wh["details"],
        "secrets": wh["secrets"],
        "required_tables": ["analytics.mart_screener_data"],
        **FAST_SYNC,
        **extra,
    }


@double_only
def test_setup_completes_first_run_setup_on_a_fresh_instance(fresh_double: MetabaseDouble) -> None:
    engine = Engine({"url": fresh_double.url, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    outs = engine.up("setup", SetupProvider(), {"health_interval_seconds": 0.05})
    assert fresh_double.users[ADMIN_EMAIL]["is_superuser"] and outs["admin_user_id"] == 1


@double_only
def test_setup_prefs_cannot_turn_tracking_off(fresh_double: MetabaseDouble) -> None:
    """Control: 0.56's /api/setup ignores prefs.allow_tracking and turns tracking on."""
    token = fresh_double.setup_token
    client = MetabaseClient(Credentials(fresh_double.url, ADMIN_EMAIL, ADMIN_PASSWORD))
    client._post_retrying(
        "setup",
        {
            "token": token,
            "user": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            "prefs": {"site_name": "MFB", "allow_tracking": False},
        },
        auth=False,
    )
    assert fresh_double.settings["anon-tracking-enabled"] is True


@double_only
def test_setup_turns_anonymous_tracking_off(fresh_double: MetabaseDouble) -> None:
    engine = Engine({"url": fresh_double.url, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    engine.up("setup", SetupProvider(), {"health_interval_seconds": 0.05})
    assert fresh_double.settings["anon-tracking-enabled"] is False


def test_setup_on_a_set_up_instance_verifies_the_login(mb: MB) -> None:
    outs = mb.engine.up("setup", SetupProvider(), {"health_interval_seconds": 0.05})
    assert outs["url"] == mb.url.rstrip("/")


def test_setup_with_a_wrong_password_fails_naming_the_config_key(mb: MB) -> None:
    engine = Engine({"url": mb.url, "email": mb.email, "password": "wrong-password-1"})
    with pytest.raises(MetabaseConfigError, match="metabaseAdminPassword"):
        engine.up("setup", SetupProvider(), {"health_interval_seconds": 0.05})


@double_only
def test_setup_rejects_a_too_common_password_with_metabase_reason(
    fresh_double: MetabaseDouble,
) -> None:
    engine = Engine({"url": fresh_double.url, "email": ADMIN_EMAIL, "password": "password"})
    with pytest.raises(MetabaseConfigError, match="too common"):
        engine.up("setup", SetupProvider(), {"health_interval_seconds": 0.05})


def test_database_create_returns_once_required_tables_are_visible(
    mb: MB, warehouse_details
) -> None:
    outs = mb.engine.up("db", DatabaseProvider(), db_inputs(mb, warehouse_details))
    names = {
        f"{t['schema']}.{t['name']}"
        for t in mb.client().get(f"database/{int(outs['database_id'])}", include="tables")["tables"]
    }
    assert "analytics.mart_screener_data" in names


@double_only
def test_database_create_waits_longer_than_the_sync_delay(mb: MB, warehouse_details) -> None:
    mb.double.sync_delay = 0.4
    mb.engine.up("db", DatabaseProvider(), db_inputs(mb, warehouse_details))
    db = mb.double.databases[mb.engine.id_of("db")]
    assert "analytics.mart_screener_data" in db["tables"]


@double_only
def test_database_missing_table_error_names_it(mb: MB, warehouse_details) -> None:
    inputs = db_inputs(
        mb,
        warehouse_details,
        required_tables=["analytics.mart_screener_data", "analytics.mart_nope"],
        sync_timeout_seconds=0.5,
    )
    with pytest.raises(SyncTimeout, match=r"analytics\.mart_nope") as err:
        mb.engine.up("db", DatabaseProvider(), inputs)
    assert "mart_screener_data" not in str(err.value).split("missing")[-1].split(":", 1)[-1]


def test_database_outputs_hold_no_secret_value(mb: MB, warehouse_details) -> None:
    outs = mb.engine.up("db", DatabaseProvider(), db_inputs(mb, warehouse_details))
    dumped = json.dumps({k: v for k, v in outs.items() if k != "connection"})
    assert warehouse_details["secrets"]["password"] not in dumped and outs["secrets_sha256"]


def test_database_no_op_diff_after_create_and_refresh(mb: MB, warehouse_details) -> None:
    inputs = db_inputs(mb, warehouse_details)
    mb.engine.up("db", DatabaseProvider(), inputs)
    mb.engine.refresh("db")
    assert mb.engine.preview("db", DatabaseProvider(), inputs).changes is False


def test_database_password_rotation_is_a_change_not_a_replacement(
    mb: MB, warehouse_details
) -> None:
    mb.engine.up("db", DatabaseProvider(), db_inputs(mb, warehouse_details))
    rotated = db_inputs(mb, warehouse_details, secrets={"password": "rotated-pw-2"})
    diff = mb.engine.preview("db", DatabaseProvider(), rotated)
    assert diff.changes and "secrets" not in diff.replaces and not diff.replaces


@double_only
def test_database_password_rotation_reaches_metabase(mb: MB, warehouse_details) -> None:
    mb.engine.up("db", DatabaseProvider(), db_inputs(mb, warehouse_details))
    mb.engine.up(
        "db",
        DatabaseProvider(),
        db_inputs(mb, warehouse_details, secrets={"password": "rotated-pw-2"}),
    )
    assert mb.double.databases[mb.engine.id_of("db")]["details"]["password"] == "rotated-pw-2"


@double_only
def test_database_rename_keeps_stored_password(mb: MB, warehouse_details) -> None:
    mb.engine.up("db", DatabaseProvider(), db_inputs(mb, warehouse_details))
    mb.engine.up("db", DatabaseProvider(), db_inputs(mb, warehouse_details, name="Renamed"))
    db = mb.double.databases[mb.engine.id_of("db")]
    assert (
        db["name"] == "Renamed"
        and db["details"]["password"] == warehouse_details["secrets"]["password"]
    )


def test_database_engine_change_is_a_replacement(mb: MB, warehouse_details) -> None:
    mb.engine.up("db", DatabaseProvider(), db_inputs(mb, warehouse_details))
    sa = json.dumps({"type": "service_account", "private_key": "k", "client_email": "x@y"})
    bq = {
        "name": "BQ",
        "engine": "bigquery-cloud-sdk",
        "details": {"project-id": "p"},
        "secrets": {"service-account-json": sa},
    }
    assert mb.engine.preview("db", DatabaseProvider(), bq).replaces == ["engine"]


def test_database_ui_rename_shows_after_refresh(mb: MB, warehouse_details) -> None:
    inputs = db_inputs(mb, warehouse_details)
    mb.engine.up("db", DatabaseProvider(), inputs)
    mb.client().put(f"database/{mb.engine.id_of('db')}", {"name": "Renamed in the UI"})
    mb.engine.refresh("db")
    diff = mb.engine.preview("db", DatabaseProvider(), inputs)
    assert diff.changes is True and not diff.replaces  # the engine sees no stables


SA_KEY = json.dumps(
    {"type": "service_account", "private_key": "-----BEGIN-----", "client_email": "x@y"}
)


def bq_inputs(**extra: Any) -> dict[str, Any]:
    return {
        "name": "MFB BigQuery Analytics",
        "engine": "bigquery-cloud-sdk",
        "details": {
            "project-id": "mfb-prod",
            "dataset-filters-type": "inclusion",
            "dataset-filters-patterns": "analytics",
        },
        "secrets": {"service-account-json": SA_KEY},
        "required_tables": ["analytics.mart_ga_kpi_summary"],
        **FAST_SYNC,
        **extra,
    }


@double_only
def test_bigquery_database_is_created_with_its_key(mb: MB) -> None:
    mb.double.bq_datasets["analytics"] = ["mart_ga_kpi_summary"]
    mb.engine.up("bq", DatabaseProvider(), bq_inputs())
    assert mb.double.databases[mb.engine.id_of("bq")]["details"]["service-account-json"] == SA_KEY


@double_only
def test_bigquery_tables_are_reported_with_the_dataset_as_schema(mb: MB) -> None:
    """Control for the dataset-qualified required tables: no bare table name is ever reported."""
    mb.double.bq_datasets["analytics"] = ["mart_ga_kpi_summary"]
    mb.engine.up("bq", DatabaseProvider(), bq_inputs())
    tables = mb.client().get(f"database/{mb.engine.id_of('bq')}/metadata")["tables"]
    assert [(t["schema"], t["name"]) for t in tables] == [("analytics", "mart_ga_kpi_summary")]


@double_only
def test_bigquery_required_tables_are_ready_as_dataset_dot_table(mb: MB) -> None:
    mb.double.bq_datasets["analytics"] = ["mart_ga_kpi_summary", "mart_ga_traffic_mediums"]
    outs = mb.engine.up("bq", DatabaseProvider(), bq_inputs())
    assert outs["tables_ready"] == ["analytics.mart_ga_kpi_summary"]


def test_bigquery_check_refuses_a_table_without_its_dataset(mb: MB) -> None:
    with pytest.raises(CheckFailed, match=r"<dataset>\.<table>"):
        mb.engine.up("bq", DatabaseProvider(), bq_inputs(required_tables=["mart_ga_kpi_summary"]))


def test_bigquery_check_refuses_a_table_in_a_dataset_the_filter_leaves_out(mb: MB) -> None:
    with pytest.raises(CheckFailed, match="leaves out"):
        mb.engine.up(
            "bq", DatabaseProvider(), bq_inputs(required_tables=["staging.mart_ga_kpi_summary"])
        )


@double_only
def test_metabase_refuses_a_bigquery_filter_that_matches_no_dataset(mb: MB) -> None:
    """Control: the server's own answer while dbt has not created the dataset yet."""
    from components.metabase.client import MetabaseError

    body = {
        "name": "BQ",
        "engine": "bigquery-cloud-sdk",
        "details": {**bq_inputs()["details"], "service-account-json": SA_KEY},
    }
    with pytest.raises(MetabaseError, match="cannot find any matching datasets") as err:
        mb.client().post("database", body)
    assert err.value.status == 400


@double_only
def test_bigquery_missing_dataset_error_names_the_dataset_and_the_dbt_run(mb: MB) -> None:
    from components.metabase.database import BigQueryDatasetMissing

    with pytest.raises(BigQueryDatasetMissing) as err:
        mb.engine.up("bq", DatabaseProvider(), bq_inputs())
    message = str(err.value)
    assert "mfb-prod.analytics" in message and "--target bigquery" in message
    assert "dbt-nightly.yml" in message


def test_database_delete_tolerates_an_already_deleted_database(mb: MB, warehouse_details) -> None:
    mb.engine.up("db", DatabaseProvider(), db_inputs(mb, warehouse_details))
    db_id = mb.engine.id_of("db")
    mb.client().delete(f"database/{db_id}")
    mb.engine.destroy("db")
    assert mb.client().get_or_none(f"database/{db_id}") is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"secrets": {}}, "secrets.password"),
        (
            {"details": {"host": "h", "port": 5432, "dbname": "d", "user": "u", "password": "x"}},
            "details.password",
        ),
        ({"engine": "mysql"}, "engine"),
        ({"details": {"host": "h", "port": 70000, "dbname": "d", "user": "u"}}, "details.port"),
        ({"required_tables": ["a.b.c"]}, "required_tables[0]"),
        ({"name": ""}, "name"),
    ],
)
def test_database_check_names_the_bad_field(mb: MB, warehouse_details, change, field) -> None:
    with pytest.raises(CheckFailed) as err:
        mb.engine.up("db", DatabaseProvider(), {**db_inputs(mb, warehouse_details), **change})
    assert field in [f.property for f in err.value.failures]


def test_bigquery_check_rejects_a_key_that_is_not_json(mb: MB) -> None:
    inputs = {
        "name": "BQ",
        "engine": "bigquery-cloud-sdk",
        "details": {"project-id": "p"},
        "secrets": {"service-account-json": "not json"},
    }
    with pytest.raises(CheckFailed, match="service-account-json"):
        mb.engine.up("bq", DatabaseProvider(), inputs)


def test_database_create_adopts_the_database_an_earlier_run_made(mb: MB, warehouse_details) -> None:
    inputs = db_inputs(mb, warehouse_details)
    mb.engine.up("db", DatabaseProvider(), inputs)
    first = mb.engine.id_of("db")
    del mb.engine.state["db"]  # the run died before recording the database
    mb.engine.up("db", DatabaseProvider(), inputs)
    assert mb.engine.id_of("db") == first


@double_only
@pytest.mark.parametrize("fault", ["502-after", "drop-after"])
def test_database_create_with_lost_response_is_not_duplicated(
    mb: MB, warehouse_details, fault: str
) -> None:
    mb.double.faults.once.append(("POST", "/api/database", fault))
    mb.engine.up("db", DatabaseProvider(), db_inputs(mb, warehouse_details))
    assert mb.double.faults.injected[fault] == 1 and mb.double.stats["databases_created"] == 1
