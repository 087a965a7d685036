"""Permission groups and graphs: only managed pairs change; stale revisions retried once."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import MB, double_only
from harness import CheckFailed

from components.metabase.collection import CollectionProvider
from components.metabase.permissions import PermissionsGraphProvider, PermissionsGroupProvider

NATIVE = {
    "view-data": "unrestricted",
    "create-queries": "query-builder-and-native",
    "download": {"schemas": "full"},
}


def group(mb: MB, name: str) -> int:
    return int(
        mb.engine.up(f"g-{name}", PermissionsGroupProvider(), {"name": mb.name(name)})["group_id"]
    )


def data_graph(mb: MB) -> dict[str, Any]:
    return mb.client().get("permissions/graph")["groups"]


def test_group_create_adopts_a_group_with_the_same_name(mb: MB) -> None:
    existing = mb.client().post("permissions/group", {"name": mb.name("Global Viewers")})
    assert group(mb, "Global Viewers") == existing["id"]


def test_group_delete_tolerates_a_group_already_gone(mb: MB) -> None:
    gid = group(mb, "Texas Viewers")
    mb.client().delete(f"permissions/group/{gid}")
    mb.engine.destroy("g-Texas Viewers")
    assert mb.client().get_or_none(f"permissions/group/{gid}") is None


def test_group_check_refuses_a_builtin_name(mb: MB) -> None:
    with pytest.raises(CheckFailed, match="built-in"):
        mb.engine.up("g", PermissionsGroupProvider(), {"name": "Administrators"})


def test_data_graph_changes_only_the_managed_pair(mb: MB) -> None:
    managed, other = group(mb, "Global Viewers"), group(mb, "Hand Made")
    db = mb.sample_db_id()
    before = data_graph(mb)
    mb.engine.up(
        "perm",
        PermissionsGraphProvider(),
        {
            "kind": "data",
            "entries": [{"group_id": managed, "database_id": db, "permissions": NATIVE}],
        },
    )
    after = data_graph(mb)
    assert after[str(other)] == before[str(other)] and after["1"] == before["1"]
    assert after[str(managed)][str(db)]["create-queries"] == "query-builder-and-native"


def test_data_graph_no_op_after_refresh(mb: MB) -> None:
    inputs = {
        "kind": "data",
        "entries": [
            {"group_id": group(mb, "GV"), "database_id": mb.sample_db_id(), "permissions": NATIVE}
        ],
    }
    mb.engine.up("perm", PermissionsGraphProvider(), inputs)
    mb.engine.refresh("perm")
    assert mb.engine.preview("perm", PermissionsGraphProvider(), inputs).changes is False


def test_data_graph_ui_change_is_drift_after_refresh(mb: MB) -> None:
    gid, db = group(mb, "GV"), mb.sample_db_id()
    inputs = {
        "kind": "data",
        "entries": [{"group_id": gid, "database_id": db, "permissions": NATIVE}],
    }
    mb.engine.up("perm", PermissionsGraphProvider(), inputs)
    graph = mb.client().get("permissions/graph")
    mb.client().put(
        "permissions/graph",
        {
            "revision": graph["revision"],
            "groups": {
                str(gid): {**graph["groups"][str(gid)], str(db): {**NATIVE, "create-queries": "no"}}
            },
        },
    )
    mb.engine.refresh("perm")
    assert mb.engine.preview("perm", PermissionsGraphProvider(), inputs).changes is True


@double_only
def test_data_graph_already_matching_sends_no_put(mb: MB) -> None:
    gid, db = group(mb, "GV"), mb.sample_db_id()
    inputs = {
        "kind": "data",
        "entries": [{"group_id": gid, "database_id": db, "permissions": NATIVE}],
    }
    mb.engine.up("perm", PermissionsGraphProvider(), inputs)
    mb.double.reset_counts()
    mb.engine.destroy("perm")
    mb.engine.state.clear()
    mb.client().get("user/current")
    mb.double.reset_counts()
    mb.engine.up(
        "perm2",
        PermissionsGraphProvider(),
        {
            "kind": "data",
            "entries": [
                {"group_id": gid, "database_id": db, "permissions": {"create-queries": "no"}}
            ],
        },
    )
    assert mb.double.count("PUT", "/api/permissions/graph") == 0


@double_only
def test_data_graph_stale_revision_is_reread_and_retried_once(mb: MB) -> None:
    gid, db = group(mb, "GV"), mb.sample_db_id()
    original = mb.double.handle
    bumped = []

    def racing(method, path, body, headers):
        if method == "PUT" and path.startswith("/api/permissions/graph") and not bumped:
            bumped.append(1)
            mb.double.data_revision += 1  # someone else saved meanwhile
        return original(method, path, body, headers)

    mb.double.handle = racing  # type: ignore[method-assign]
    mb.engine.up(
        "perm",
        PermissionsGraphProvider(),
        {"kind": "data", "entries": [{"group_id": gid, "database_id": db, "permissions": NATIVE}]},
    )
    assert (
        bumped
        and mb.double.data_graph[str(gid)][str(db)]["create-queries"] == "query-builder-and-native"
    )


def test_dropped_entry_is_revoked(mb: MB) -> None:
    gid, db = group(mb, "GV"), mb.sample_db_id()
    mb.engine.up(
        "perm",
        PermissionsGraphProvider(),
        {"kind": "data", "entries": [{"group_id": gid, "database_id": db, "permissions": NATIVE}]},
    )
    mb.engine.up("perm", PermissionsGraphProvider(), {"kind": "data", "entries": []})
    assert data_graph(mb)[str(gid)][str(db)]["create-queries"] == "no"


def test_collection_graph_grants_read_on_the_managed_collection_only(mb: MB) -> None:
    gid = group(mb, "NC Viewers")
    mine = int(mb.engine.up("c1", CollectionProvider(), {"name": mb.name("NC")})["collection_id"])
    other = int(mb.engine.up("c2", CollectionProvider(), {"name": mb.name("TX")})["collection_id"])
    mb.engine.up(
        "cperm",
        PermissionsGraphProvider(),
        {
            "kind": "collection",
            "entries": [{"group_id": gid, "collection_id": mine, "access": "read"}],
        },
    )
    groups = mb.client().get("collection/graph")["groups"][str(gid)]
    assert groups[str(mine)] == "read" and groups.get(str(other), "none") == "none"


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        (
            {
                "kind": "collection",
                "entries": [{"group_id": 5, "collection_id": 9, "access": "admin"}],
            },
            "entries[0].access",
        ),
        (
            {"kind": "data", "entries": [{"group_id": 2, "database_id": 1, "permissions": NATIVE}]},
            "entries[0].group_id",
        ),
        (
            {"kind": "data", "entries": [{"group_id": 5, "database_id": 1, "permissions": "all"}]},
            "entries[0].permissions",
        ),
        ({"kind": "sandbox", "entries": []}, "kind"),
    ],
)
def test_graph_check_names_the_bad_field(mb: MB, inputs, field) -> None:
    with pytest.raises(CheckFailed) as err:
        mb.engine.up("perm", PermissionsGraphProvider(), inputs)
    assert field in [f.property for f in err.value.failures]
