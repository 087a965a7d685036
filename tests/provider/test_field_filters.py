"""Field filters declared by name: the Card provider resolves ``field: [schema, table, column]``
to the synced field's id on create/update and maps it back on read (components/metabase/card.py),
so inputs and state never hold field ids. Driven through Pulumi's real dynamic-provider host."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import MB, double_only
from harness import CheckFailed
from host import UNKNOWN, HostError
from test_setup_database import db_inputs

from components.metabase.card import CardProvider
from components.metabase.database import DatabaseProvider

SQL = (
    "SELECT count(*) AS n FROM analytics.mart_screener_data\n"
    "WHERE 1 = 1 [[AND {{partner}}]] [[AND {{date_range}}]]\n"
)


def tags(column: str = "partner") -> dict[str, Any]:
    return {
        "partner": {
            "type": "dimension",
            "name": "partner",
            "display-name": "Partner",
            "widget-type": "string/=",
            "required": False,
            "field": ["analytics", "mart_screener_data", column],
        },
        "date_range": {
            "type": "dimension",
            "name": "date_range",
            "display-name": "Date Range",
            "widget-type": "date/all-options",
            "required": False,
            "field": ["analytics", "mart_screener_data", "submission_date"],
        },
    }


def card(mb: MB, database_id: Any, column: str = "partner", **extra: Any) -> dict[str, Any]:
    return {
        "name": mb.name("Completed Screeners"),
        "database_id": database_id,
        "sql": SQL,
        "template_tags": tags(column),
        "display": "scalar",
        **extra,
    }


def synced_db(mb: MB, warehouse_details: dict[str, Any], res: str = "db", **extra: Any) -> int:
    outs = mb.engine.up(res, DatabaseProvider(), db_inputs(mb, warehouse_details, **extra))
    return int(outs["database_id"])


def field_ids(mb: MB, database_id: int) -> dict[str, int]:
    """Column name -> field id of analytics.mart_screener_data, as Metabase reports them."""
    meta = mb.client().get(f"database/{database_id}/metadata")
    (table,) = [
        t
        for t in meta["tables"]
        if t["schema"] == "analytics" and t["name"] == "mart_screener_data"
    ]
    return {f["name"]: int(f["id"]) for f in table["fields"]}


def live_dimensions(mb: MB, card_id: int) -> dict[str, list[Any]]:
    native = mb.client().get(f"card/{card_id}")["dataset_query"]["native"]
    return {name: t["dimension"][:2] for name, t in native["template-tags"].items()}


def test_field_filter_is_saved_with_the_id_of_the_named_column(mb: MB, warehouse_details) -> None:
    db = synced_db(mb, warehouse_details)
    outs = mb.engine.up("c", CardProvider(), card(mb, db))
    ids = field_ids(mb, db)
    assert live_dimensions(mb, int(outs["card_id"])) == {
        "partner": ["field", ids["partner"]],
        "date_range": ["field", ids["submission_date"]],
    }


def test_each_card_gets_the_field_id_of_its_own_database(mb: MB, warehouse_details) -> None:
    db1 = synced_db(mb, warehouse_details, "db1")
    db2 = synced_db(mb, warehouse_details, "db2", name=mb.name("MFB PostgreSQL Colorado"))
    c1 = mb.engine.up("c1", CardProvider(), card(mb, db1))
    c2 = mb.engine.up("c2", CardProvider(), {**card(mb, db2), "name": mb.name("Other")})
    p1 = live_dimensions(mb, int(c1["card_id"]))["partner"]
    p2 = live_dimensions(mb, int(c2["card_id"]))["partner"]
    assert p1 == ["field", field_ids(mb, db1)["partner"]]
    assert p2 == ["field", field_ids(mb, db2)["partner"]] and p1 != p2


def test_refresh_maps_field_ids_back_to_names_and_shows_no_diff(mb: MB, warehouse_details) -> None:
    db = synced_db(mb, warehouse_details)
    mb.engine.up("c", CardProvider(), card(mb, db))
    outs = mb.engine.refresh("c")
    assert outs is not None
    named = ["analytics", "mart_screener_data", "partner"]
    assert outs["template_tags"]["partner"]["field"] == named
    assert "dimension" not in outs["template_tags"]["partner"]
    assert mb.engine.preview("c", CardProvider(), card(mb, db)).changes is False


def test_ui_repointed_field_filter_is_drift_after_refresh(mb: MB, warehouse_details) -> None:
    """Control for the no-diff test: a filter moved to another column in the UI is seen."""
    db = synced_db(mb, warehouse_details)
    outs = mb.engine.up("c", CardProvider(), card(mb, db))
    live = mb.client().get(f"card/{int(outs['card_id'])}")
    dq = live["dataset_query"]
    dq["native"]["template-tags"]["partner"]["dimension"] = [
        "field",
        field_ids(mb, db)["county"],
        None,
    ]
    mb.client().put(f"card/{int(outs['card_id'])}", {"dataset_query": dq})
    mb.engine.refresh("c")
    assert mb.engine.preview("c", CardProvider(), card(mb, db)).changes is True


@double_only
def test_renumbered_fields_are_repaired_by_the_next_up_of_the_same_declaration(
    mb: MB, warehouse_details
) -> None:
    db = synced_db(mb, warehouse_details)
    declared = card(mb, db)
    outs = mb.engine.up("c", CardProvider(), declared)
    before = field_ids(mb, db)["partner"]
    mb.double.resync_fields(db)  # fields re-created: every one has a new id
    after = field_ids(mb, db)["partner"]
    assert after != before
    mb.engine.refresh("c")
    assert mb.engine.preview("c", CardProvider(), declared).changes is True  # stale id seen
    mb.engine.up("c", CardProvider(), declared)
    assert live_dimensions(mb, int(outs["card_id"]))["partner"] == ["field", after]
    mb.engine.refresh("c")
    assert mb.engine.preview("c", CardProvider(), declared).changes is False
    assert mb.engine.state["c"].inputs["template_tags"] == tags()


def test_unknown_column_fails_naming_the_card_table_and_column(mb: MB, warehouse_details) -> None:
    db = synced_db(mb, warehouse_details)
    with pytest.raises(HostError) as err:
        mb.engine.up("c", CardProvider(), card(mb, db, column="partnr"))
    message = str(err.value)
    assert "Completed Screeners" in message
    assert "analytics.mart_screener_data" in message and "'partnr'" in message
    saved = mb.client().list_data("collection/root/items", models="card")
    assert not any(c["name"] == mb.name("Completed Screeners") for c in saved)  # nothing half-made


def test_unknown_table_fails_naming_it(mb: MB, warehouse_details) -> None:
    db = synced_db(mb, warehouse_details)
    inputs = card(mb, db)
    inputs["template_tags"]["partner"]["field"] = ["analytics", "mart_nope", "partner"]
    with pytest.raises(HostError, match=r"table analytics\.mart_nope is not in"):
        mb.engine.up("c", CardProvider(), inputs)


def test_preview_with_an_unknown_database_passes_check(mb: MB) -> None:
    news = mb.engine.check("c", CardProvider(), card(mb, UNKNOWN))
    assert news["template_tags"]["partner"]["field"][2] == "partner"


def test_check_rejects_a_malformed_field_reference(mb: MB) -> None:
    inputs = card(mb, 3)
    inputs["template_tags"]["partner"]["field"] = ["mart_screener_data", "partner"]
    with pytest.raises(CheckFailed, match=r"template_tags\.partner\.field"):
        mb.engine.check("c", CardProvider(), inputs)


@double_only
def test_a_normal_resync_keeps_field_ids_so_nothing_changes(mb: MB, warehouse_details) -> None:
    db = synced_db(mb, warehouse_details)
    declared = card(mb, db)
    mb.engine.up("c", CardProvider(), declared)
    before = field_ids(mb, db)
    mb.client().post(f"database/{db}/sync_schema", {})
    mb.double.databases[db]["sync_until"] = time.monotonic()  # let the sync finish now
    assert field_ids(mb, db) == before
    mb.engine.refresh("c")
    assert mb.engine.preview("c", CardProvider(), declared).changes is False
