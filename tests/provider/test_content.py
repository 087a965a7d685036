"""Collection and Card providers: idempotent create, normalized diff, refresh, delete."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import MB, double_only
from harness import CheckFailed

from components.metabase.card import CardProvider
from components.metabase.collection import CollectionProvider

SQL = "SELECT count(*) AS n FROM orders WHERE 1 = 1 [[AND {{created}}]]\n"


def coll(mb: MB, name: str = "Global", **extra: Any) -> dict[str, Any]:
    return {"name": mb.name(name), "description": None, **extra}


def card(mb: MB, collection_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Completed Screeners",
        "collection_id": collection_id,
        "database_id": mb.sample_db_id(),
        "sql": SQL,
        "template_tags": {"created": {"type": "text", "display-name": "Created"}},
        "display": "scalar",
        "visualization_settings": {"scalar.field": "n"},
        **extra,
    }


def test_collection_is_created_under_its_parent(mb: MB) -> None:
    parent = mb.engine.up("parent", CollectionProvider(), coll(mb, "Global"))
    mb.engine.up(
        "child", CollectionProvider(), coll(mb, "North Carolina", parent_id=parent["collection_id"])
    )
    live = mb.client().get(f"collection/{mb.engine.id_of('child')}")
    assert live["parent_id"] == int(parent["collection_id"])


def test_collection_no_op_diff_after_refresh(mb: MB) -> None:
    mb.engine.up("c", CollectionProvider(), coll(mb))
    mb.engine.refresh("c")
    assert mb.engine.preview("c", CollectionProvider(), coll(mb)).changes is False


def test_collection_ui_rename_is_drift_after_refresh(mb: MB) -> None:
    mb.engine.up("c", CollectionProvider(), coll(mb))
    mb.client().put(f"collection/{mb.engine.id_of('c')}", {"name": "Renamed"})
    mb.engine.refresh("c")
    assert mb.engine.preview("c", CollectionProvider(), coll(mb)).changes is True


def test_collection_delete_archives_it(mb: MB) -> None:
    mb.engine.up("c", CollectionProvider(), coll(mb))
    cid = mb.engine.id_of("c")
    mb.engine.destroy("c")
    assert mb.client().get(f"collection/{cid}")["archived"] is True


def test_collection_archived_in_ui_is_restored_by_next_up(mb: MB) -> None:
    mb.engine.up("c", CollectionProvider(), coll(mb))
    mb.client().put(f"collection/{mb.engine.id_of('c')}", {"archived": True})
    mb.engine.refresh("c")
    mb.engine.up("c", CollectionProvider(), coll(mb))
    assert mb.client().get(f"collection/{mb.engine.id_of('c')}")["archived"] is False


def test_collection_create_adopts_an_existing_one_with_the_same_name_and_parent(mb: MB) -> None:
    existing = mb.client().post("collection", {"name": mb.name("Global")})
    mb.engine.up("c", CollectionProvider(), coll(mb))
    assert mb.engine.id_of("c") == existing["id"]


def test_collection_check_names_blank_name(mb: MB) -> None:
    with pytest.raises(CheckFailed, match=r"Collection\.name"):
        mb.engine.up("c", CollectionProvider(), {"name": "  "})


@double_only
def test_collection_create_with_lost_response_is_adopted_not_duplicated(mb: MB) -> None:
    mb.double.faults.once.append(("POST", "/api/collection", "drop-after"))
    mb.engine.up("c", CollectionProvider(), coll(mb))
    named = [c for c in mb.double.collections.values() if c["name"] == mb.name("Global")]
    assert mb.double.faults.injected["drop-after"] == 1
    assert len(named) == 1 and mb.engine.id_of("c") == named[0]["id"]


def test_card_no_op_diff_despite_metabase_normalization(mb: MB) -> None:
    c = mb.engine.up("coll", CollectionProvider(), coll(mb))
    inputs = card(mb, c["collection_id"])
    mb.engine.up("card", CardProvider(), inputs)
    mb.engine.refresh("card")
    assert mb.engine.preview("card", CardProvider(), inputs).changes is False


def test_card_sql_change_updates_in_place(mb: MB) -> None:
    c = mb.engine.up("coll", CollectionProvider(), coll(mb))
    mb.engine.up("card", CardProvider(), card(mb, c["collection_id"]))
    first = mb.engine.id_of("card")
    mb.engine.up(
        "card",
        CardProvider(),
        card(mb, c["collection_id"], sql=SQL.replace("count(*)", "count(1)")),
    )
    live = mb.client().get(f"card/{first}")
    assert (
        mb.engine.id_of("card") == first and "count(1)" in live["dataset_query"]["native"]["query"]
    )


def test_card_whitespace_only_sql_change_is_not_a_diff(mb: MB) -> None:
    c = mb.engine.up("coll", CollectionProvider(), coll(mb))
    mb.engine.up("card", CardProvider(), card(mb, c["collection_id"]))
    assert (
        mb.engine.preview(
            "card", CardProvider(), card(mb, c["collection_id"], sql=SQL.replace("\n", "  \r\n"))
        ).changes
        is False
    )


def test_card_edit_in_ui_shows_after_refresh(mb: MB) -> None:
    c = mb.engine.up("coll", CollectionProvider(), coll(mb))
    inputs = card(mb, c["collection_id"])
    mb.engine.up("card", CardProvider(), inputs)
    mb.client().put(
        f"card/{mb.engine.id_of('card')}", {"visualization_settings": {"scalar.field": "other"}}
    )
    mb.engine.refresh("card")
    diff = mb.engine.preview("card", CardProvider(), inputs)
    assert diff.changes is True and not diff.replaces  # the engine sees no stables


def test_card_archived_in_ui_is_restored(mb: MB) -> None:
    c = mb.engine.up("coll", CollectionProvider(), coll(mb))
    inputs = card(mb, c["collection_id"])
    mb.engine.up("card", CardProvider(), inputs)
    mb.client().put(f"card/{mb.engine.id_of('card')}", {"archived": True})
    mb.engine.refresh("card")
    mb.engine.up("card", CardProvider(), inputs)
    live = mb.client().get(f"card/{mb.engine.id_of('card')}")
    assert live["archived"] is False and live["collection_id"] == int(c["collection_id"])


def test_card_create_adopts_the_card_an_earlier_run_made(mb: MB) -> None:
    c = mb.engine.up("coll", CollectionProvider(), coll(mb))
    inputs = card(mb, c["collection_id"])
    mb.engine.up("card", CardProvider(), inputs)
    first = mb.engine.id_of("card")
    del mb.engine.state["card"]  # the run died before recording the card
    mb.engine.up("card", CardProvider(), inputs)
    assert mb.engine.id_of("card") == first


def test_metabase_ignores_a_client_entity_id_on_card_create(mb: MB) -> None:
    """Control for the adoption tests: an entity_id we send cannot identify a lost create."""
    c = mb.engine.up("coll", CollectionProvider(), coll(mb))
    chosen = "mfbChosenEntityId0001"
    body = {
        "name": "Chosen id",
        "collection_id": int(c["collection_id"]),
        "dataset_query": {
            "database": mb.sample_db_id(),
            "type": "native",
            "native": {"query": "select 1"},
        },
        "display": "table",
        "visualization_settings": {},
        "entity_id": chosen,
    }
    made = mb.client().post("card", body)
    assert made["entity_id"] != chosen and mb.client().get_or_none(f"card/{chosen}") is None


def test_card_create_does_not_adopt_a_same_named_card_of_another_collection(mb: MB) -> None:
    mine = mb.engine.up("coll", CollectionProvider(), coll(mb))
    other = mb.engine.up("other", CollectionProvider(), coll(mb, "Other"))
    mb.engine.up("card-other", CardProvider(), card(mb, other["collection_id"]))
    mb.engine.up("card", CardProvider(), card(mb, mine["collection_id"]))
    assert mb.engine.id_of("card") != mb.engine.id_of("card-other")


@double_only
@pytest.mark.parametrize("fault", ["502-after", "drop-after"])
def test_card_create_with_lost_response_is_not_duplicated(mb: MB, fault: str) -> None:
    c = mb.engine.up("coll", CollectionProvider(), coll(mb))
    mb.double.faults.once.append(("POST", "/api/card", fault))
    mb.engine.up("card", CardProvider(), card(mb, c["collection_id"]))
    assert mb.double.faults.injected[fault] == 1
    assert mb.double.stats["cards_created"] == 1 and len(mb.double.cards) == 1


def test_card_delete_tolerates_an_already_deleted_card(mb: MB) -> None:
    c = mb.engine.up("coll", CollectionProvider(), coll(mb))
    mb.engine.up("card", CardProvider(), card(mb, c["collection_id"]))
    mb.client().delete(f"card/{mb.engine.id_of('card')}")
    mb.engine.destroy("card")
    assert "card" not in mb.engine.state


def test_card_deleted_in_ui_disappears_from_state_on_refresh(mb: MB) -> None:
    c = mb.engine.up("coll", CollectionProvider(), coll(mb))
    mb.engine.up("card", CardProvider(), card(mb, c["collection_id"]))
    mb.client().delete(f"card/{mb.engine.id_of('card')}")
    assert mb.engine.refresh("card") is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"display": "sparkline"}, "display"),
        ({"template_tags": {"nope": {"type": "text"}}}, "template_tags.nope"),
        ({"template_tags": {"created": {"type": "dimension"}}}, "template_tags.created"),
        ({"sql": None}, "sql"),
        ({"database_id": "abc"}, "database_id"),
        ({"type": "report"}, "type"),
    ],
)
def test_card_check_names_the_bad_field(mb: MB, change, field) -> None:
    inputs = {**card(mb, 1), **change}
    with pytest.raises(CheckFailed) as err:
        mb.engine.up("card", CardProvider(), inputs)
    assert field in [f.property for f in err.value.failures]
