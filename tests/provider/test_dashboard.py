"""Dashboard provider: one PUT with tabs and dashcards, ids kept across updates."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import MB, double_only
from harness import CheckFailed

from components.metabase.card import CardProvider
from components.metabase.collection import CollectionProvider
from components.metabase.dashboard import DashboardProvider

TEXT = {
    "virtual_card": {
        "display": "text",
        "archived": False,
        "dataset_query": {},
        "visualization_settings": {},
        "name": None,
    },
    "text": "Notes",
}


@pytest.fixture
def content(mb: MB) -> dict[str, Any]:
    c = mb.engine.up("coll", CollectionProvider(), {"name": mb.name("NC")})
    ids = []
    for i in range(3):
        outs = mb.engine.up(
            f"card{i}",
            CardProvider(),
            {
                "name": f"Card {i}",
                "collection_id": c["collection_id"],
                "database_id": mb.sample_db_id(),
                "sql": f"SELECT {i} AS n",
                "display": "scalar",
            },
        )
        ids.append(int(outs["card_id"]))
    return {"collection_id": int(c["collection_id"]), "cards": ids}


def dash(mb: MB, content: dict[str, Any]) -> dict[str, Any]:
    a, b, c = content["cards"]
    return {
        "name": mb.name("North Carolina Dashboard"),
        "collection_id": content["collection_id"],
        "collection_position": 1,
        "parameters": [
            {
                "id": "date_range_filter",
                "name": "Date Range",
                "slug": "date_range",
                "type": "date/all-options",
            }
        ],
        "tabs": [
            {"key": "summary", "name": "•      Summary"},
            {"key": "households", "name": "Households"},
        ],
        "dashcards": [
            {"card_id": a, "tab": "summary", "row": 0, "col": 0, "size_x": 4, "size_y": 3},
            {"card_id": b, "tab": "summary", "row": 0, "col": 4, "size_x": 4, "size_y": 3},
            {
                "card_id": None,
                "tab": "summary",
                "row": 3,
                "col": 0,
                "size_x": 24,
                "size_y": 2,
                "visualization_settings": TEXT,
            },
            {"card_id": c, "tab": "households", "row": 0, "col": 0, "size_x": 12, "size_y": 6},
        ],
    }


def live_ids(mb: MB, dash_id: int) -> set[int]:
    return {d["id"] for d in mb.client().get(f"dashboard/{dash_id}")["dashcards"]}


def test_dashboard_create_places_every_dashcard_on_its_tab(mb: MB, content) -> None:
    outs = mb.engine.up("d", DashboardProvider(), dash(mb, content))
    live = mb.client().get(f"dashboard/{mb.engine.id_of('d')}")
    tab_of = {t["id"]: t["name"] for t in live["tabs"]}
    placed = sorted((tab_of[d["dashboard_tab_id"]], d["row"], d["col"]) for d in live["dashcards"])
    assert placed == [
        ("Households", 0, 0),
        ("•      Summary", 0, 0),
        ("•      Summary", 0, 4),
        ("•      Summary", 3, 0),
    ]
    assert set(outs["dashcard_ids"].values()) == {
        float(i) for i in live_ids(mb, mb.engine.id_of("d"))
    }


def test_dashboard_no_op_diff_after_refresh_despite_reordered_dashcards(mb: MB, content) -> None:
    inputs = dash(mb, content)
    mb.engine.up("d", DashboardProvider(), inputs)
    mb.engine.refresh("d")
    assert mb.engine.preview("d", DashboardProvider(), inputs).changes is False


def test_dashboard_declared_order_does_not_matter(mb: MB, content) -> None:
    inputs = dash(mb, content)
    mb.engine.up("d", DashboardProvider(), inputs)
    shuffled = copy.deepcopy(inputs)
    shuffled["dashcards"].reverse()
    assert mb.engine.preview("d", DashboardProvider(), shuffled).changes is False


def test_dashboard_layout_change_keeps_every_dashcard_id(mb: MB, content) -> None:
    inputs = dash(mb, content)
    mb.engine.up("d", DashboardProvider(), inputs)
    before = live_ids(mb, mb.engine.id_of("d"))
    moved = copy.deepcopy(inputs)
    moved["dashcards"][1]["size_x"] = 8
    mb.engine.up("d", DashboardProvider(), moved)
    assert live_ids(mb, mb.engine.id_of("d")) == before


@double_only
def test_dashboard_layout_change_recreates_no_dashcard(mb: MB, content) -> None:
    inputs = dash(mb, content)
    mb.engine.up("d", DashboardProvider(), inputs)
    mb.double.reset_counts()
    moved = copy.deepcopy(inputs)
    moved["dashcards"][0]["row"] = 10
    mb.engine.up("d", DashboardProvider(), moved)
    assert (mb.double.stats["dashcards_created"], mb.double.stats["dashcards_deleted"]) == (0, 0)


def test_dashboard_added_card_and_tab_keep_existing_ids(mb: MB, content) -> None:
    inputs = dash(mb, content)
    outs = mb.engine.up("d", DashboardProvider(), inputs)
    grown = copy.deepcopy(inputs)
    grown["tabs"].append({"key": "benefits", "name": "Benefits & Needs"})
    grown["dashcards"].append(
        {
            "card_id": content["cards"][0],
            "tab": "benefits",
            "row": 0,
            "col": 0,
            "size_x": 6,
            "size_y": 4,
        }
    )
    new = mb.engine.up("d", DashboardProvider(), grown)
    kept = {k: v for k, v in new["dashcard_ids"].items() if k in outs["dashcard_ids"]}
    assert kept == outs["dashcard_ids"] and len(new["dashcard_ids"]) == 5
    assert {k: new["tab_ids"][k] for k in outs["tab_ids"]} == outs["tab_ids"]


def test_dashboard_removed_dashcard_is_the_only_one_deleted(mb: MB, content) -> None:
    inputs = dash(mb, content)
    outs = mb.engine.up("d", DashboardProvider(), inputs)
    smaller = copy.deepcopy(inputs)
    gone = smaller["dashcards"].pop(1)
    mb.engine.up("d", DashboardProvider(), smaller)
    remaining = live_ids(mb, mb.engine.id_of("d"))
    gone_id = int(outs["dashcard_ids"][f"summary|card:{gone['card_id']}"])
    assert gone_id not in remaining and len(remaining) == 3


def test_dashboard_ui_move_is_drift_after_refresh_and_next_up_restores(mb: MB, content) -> None:
    inputs = dash(mb, content)
    mb.engine.up("d", DashboardProvider(), inputs)
    dash_id = mb.engine.id_of("d")
    live = mb.client().get(f"dashboard/{dash_id}")
    for d in live["dashcards"]:
        if d["card_id"] == content["cards"][2]:
            d["row"] = 20
    mb.client().put(
        f"dashboard/{dash_id}",
        {
            "tabs": [{"id": t["id"], "name": t["name"]} for t in live["tabs"]],
            "dashcards": live["dashcards"],
        },
    )
    mb.engine.refresh("d")
    assert mb.engine.preview("d", DashboardProvider(), inputs).changes is True
    mb.engine.up("d", DashboardProvider(), inputs)
    rows = {d["card_id"]: d["row"] for d in mb.client().get(f"dashboard/{dash_id}")["dashcards"]}
    assert rows[content["cards"][2]] == 0


def test_dashboard_name_only_change_is_one_put(mb: MB, content) -> None:
    if mb.double is None:
        pytest.skip("counts requests at the double")
    inputs = dash(mb, content)
    mb.engine.up("d", DashboardProvider(), inputs)
    mb.double.reset_counts()
    mb.engine.up("d", DashboardProvider(), {**inputs, "name": "Renamed"})
    assert mb.double.requests == [("PUT", f"/api/dashboard/{mb.engine.id_of('d')}")]


def test_dashboard_without_tabs_accepts_untabbed_dashcards(mb: MB, content) -> None:
    inputs = {
        "name": mb.name("CPAL"),
        "collection_id": content["collection_id"],
        "dashcards": [
            {"card_id": content["cards"][0], "row": 0, "col": 0, "size_x": 6, "size_y": 4}
        ],
    }
    mb.engine.up("d", DashboardProvider(), inputs)
    assert len(live_ids(mb, mb.engine.id_of("d"))) == 1


def test_dashboard_delete_tolerates_an_already_deleted_dashboard(mb: MB, content) -> None:
    mb.engine.up("d", DashboardProvider(), dash(mb, content))
    mb.client().delete(f"dashboard/{mb.engine.id_of('d')}")
    mb.engine.destroy("d")
    assert "d" not in mb.engine.state


@double_only
def test_dashboard_create_with_lost_post_response_is_not_duplicated(mb: MB, content) -> None:
    mb.double.faults.once.append(("POST", "/api/dashboard", "drop-after"))
    mb.engine.up("d", DashboardProvider(), dash(mb, content))
    assert mb.double.faults.injected["drop-after"] == 1 and len(mb.double.dashboards) == 1


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["dashcards"][0].update(tab="nope"), "dashcards[0].tab"),
        (lambda d: d["dashcards"][0].update(size_x=0), "dashcards[0].size_x"),
        (lambda d: d["dashcards"][1].update(col=22), "dashcards[1].col"),
        (lambda d: d["dashcards"][2].update(visualization_settings={}), "dashcards[2].card_id"),
        (lambda d: d["dashcards"][1].update(col=0), "dashcards[1].row"),
        (lambda d: d["tabs"].append({"key": "summary", "name": "Again"}), "tabs[2].key"),
        (lambda d: d.update(width="huge"), "width"),
    ],
)
def test_dashboard_check_names_the_bad_field(mb: MB, content, mutate, field) -> None:
    inputs = dash(mb, content)
    mutate(inputs)
    with pytest.raises(CheckFailed) as err:
        mb.engine.up("d", DashboardProvider(), inputs)
    assert field in [f.property for f in err.value.failures]


def untabbed(inputs: dict[str, Any]) -> dict[str, Any]:
    """The same cards, laid out without tabs (households' card moved below the others)."""
    flat = copy.deepcopy(inputs)
    flat["tabs"] = []
    for dc in flat["dashcards"]:
        if dc["tab"] == "households":
            dc["row"] = 10
        dc.pop("tab")
    return flat


def test_metabase_ignores_width_on_dashboard_create(mb: MB, content) -> None:
    """Control for the width defence: POST /api/dashboard drops it."""
    made = mb.client().post(
        "dashboard",
        {"name": mb.name("W"), "collection_id": content["collection_id"], "width": "full"},
    )
    assert mb.client().get(f"dashboard/{made['id']}")["width"] == "fixed"


@pytest.mark.parametrize("with_layout", [True, False])
def test_dashboard_width_is_set_on_create(mb: MB, content, with_layout: bool) -> None:
    inputs = {**dash(mb, content), "width": "full"}
    if not with_layout:
        inputs.update(tabs=[], dashcards=[])
    mb.engine.up("d", DashboardProvider(), inputs)
    assert mb.client().get(f"dashboard/{mb.engine.id_of('d')}")["width"] == "full"


def test_metabase_refuses_a_layout_put_on_an_archived_dashboard(mb: MB, content) -> None:
    """Control: {"archived": false} in the same PUT does not let a layout change through."""
    from components.metabase.client import MetabaseNotFound

    mb.engine.up("d", DashboardProvider(), dash(mb, content))
    dash_id = mb.engine.id_of("d")
    mb.client().put(f"dashboard/{dash_id}", {"archived": True})
    live = mb.client().get(f"dashboard/{dash_id}")
    with pytest.raises(MetabaseNotFound):
        mb.client().put(
            f"dashboard/{dash_id}",
            {"archived": False, "tabs": live["tabs"], "dashcards": live["dashcards"]},
        )


def test_dashboard_archived_in_ui_gets_its_layout_change_and_is_restored(mb: MB, content) -> None:
    inputs = dash(mb, content)
    mb.engine.up("d", DashboardProvider(), inputs)
    dash_id = mb.engine.id_of("d")
    mb.client().put(f"dashboard/{dash_id}", {"archived": True})
    mb.engine.refresh("d")
    moved = copy.deepcopy(inputs)
    moved["dashcards"][0]["row"] = 10
    mb.engine.up("d", DashboardProvider(), moved)
    live = mb.client().get(f"dashboard/{dash_id}")
    rows = {d["card_id"]: d["row"] for d in live["dashcards"]}
    assert live["archived"] is False and rows[content["cards"][0]] == 10


def test_metabase_refuses_to_drop_every_tab_while_keeping_cards(mb: MB, content) -> None:
    """Control: removing all tabs and keeping the cards in one PUT answers 400."""
    from components.metabase.client import MetabaseError

    outs = mb.engine.up("d", DashboardProvider(), dash(mb, content))
    dash_id = mb.engine.id_of("d")
    live = mb.client().get(f"dashboard/{dash_id}")
    cards = [{**d, "dashboard_tab_id": None} for d in live["dashcards"]]
    with pytest.raises(MetabaseError) as err:
        mb.client().put(f"dashboard/{dash_id}", {"tabs": [], "dashcards": cards})
    assert err.value.status == 400 and outs["tab_ids"]


def test_dashboard_can_drop_every_tab_and_keep_its_cards(mb: MB, content) -> None:
    inputs = dash(mb, content)
    mb.engine.up("d", DashboardProvider(), inputs)
    outs = mb.engine.up("d", DashboardProvider(), untabbed(inputs))
    live = mb.client().get(f"dashboard/{mb.engine.id_of('d')}")
    assert live["tabs"] == [] and outs["tab_ids"] == {}
    assert sorted(d["card_id"] or 0 for d in live["dashcards"]) == sorted([0, *content["cards"]])
    mb.engine.refresh("d")
    assert mb.engine.preview("d", DashboardProvider(), untabbed(inputs)).changes is False


def test_dashboard_create_adopts_the_dashboard_an_earlier_run_made(mb: MB, content) -> None:
    inputs = dash(mb, content)
    mb.engine.up("d", DashboardProvider(), inputs)
    first = mb.engine.id_of("d")
    del mb.engine.state["d"]  # the run died before recording the dashboard
    mb.engine.up("d", DashboardProvider(), inputs)
    assert mb.engine.id_of("d") == first and len(live_ids(mb, first)) == 4
