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
    wanted = {"view-data": "unrestricted", "create-queries": "query-builder"}
    mb.engine.up(
        "perm",
        PermissionsGraphProvider(),
        {"kind": "data", "entries": [{"group_id": gid, "database_id": db, "permissions": wanted}]},
    )
    assert bumped and mb.double.data_perms[str(gid)][str(db)]["create-queries"] == "query-builder"


def test_dropped_entry_is_revoked(mb: MB) -> None:
    gid, db = group(mb, "GV"), mb.sample_db_id()
    mb.engine.up(
        "perm",
        PermissionsGraphProvider(),
        {"kind": "data", "entries": [{"group_id": gid, "database_id": db, "permissions": NATIVE}]},
    )
    mb.engine.up("perm", PermissionsGraphProvider(), {"kind": "data", "entries": []})
    live = data_graph(mb).get(str(gid), {}).get(str(db), {})
    assert "create-queries" not in live and "download" not in live  # left out = "no" / none


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


NOTHING = {"view-data": "unrestricted", "create-queries": "no", "download": {"schemas": "none"}}


def revoke_everything(mb: MB, gid: int, db: int) -> dict[str, Any]:
    inputs = {
        "kind": "data",
        "entries": [{"group_id": gid, "database_id": db, "permissions": NOTHING}],
    }
    mb.engine.up("perm", PermissionsGraphProvider(), inputs)
    return inputs


def test_data_graph_get_leaves_out_least_permissive_values(mb: MB) -> None:
    """Control for the sparse-graph defences: the live pair has no create-queries/download."""
    gid, db = group(mb, "GV"), mb.sample_db_id()
    revoke_everything(mb, gid, db)
    assert data_graph(mb)[str(gid)][str(db)] == {"view-data": "unrestricted"}


def test_data_graph_least_permissive_values_show_no_change_after_refresh(mb: MB) -> None:
    gid, db = group(mb, "GV"), mb.sample_db_id()
    inputs = revoke_everything(mb, gid, db)
    mb.engine.refresh("perm")
    assert mb.engine.preview("perm", PermissionsGraphProvider(), inputs).changes is False


@double_only
def test_data_graph_no_op_up_after_refresh_puts_nothing(mb: MB) -> None:
    gid, db = group(mb, "GV"), mb.sample_db_id()
    inputs = revoke_everything(mb, gid, db)
    mb.engine.refresh("perm")
    mb.engine.state["perm"].outs["entries"][0]["permissions"]["create-queries"] = "stale"
    revision = mb.double.data_revision
    mb.engine.up("perm", PermissionsGraphProvider(), inputs)  # diff says change: update runs
    assert mb.double.data_revision == revision


@double_only
def test_every_data_graph_put_makes_a_revision(mb: MB) -> None:
    """Control for the no-PUT test: a PUT that changes nothing still bumps the revision."""
    graph = mb.client().get("permissions/graph")
    mb.client().put("permissions/graph", {"revision": graph["revision"], "groups": {}})
    assert mb.double.data_revision == graph["revision"] + 1


def test_blocked_view_data_needs_a_premium_token(mb: MB) -> None:
    """OSS refuses view-data "blocked" (graph.clj: 402 without advanced-permissions), so the
    content cannot use it to take a database away from a group."""
    from components.metabase.client import MetabaseError

    gid, db = group(mb, "GV"), mb.sample_db_id()
    with pytest.raises(MetabaseError) as err:
        mb.engine.up(
            "perm",
            PermissionsGraphProvider(),
            {
                "kind": "data",
                "entries": [
                    {"group_id": gid, "database_id": db, "permissions": {"view-data": "blocked"}}
                ],
            },
        )
    # through the provider host the error arrives as its message (tests/provider/host.py)
    assert "HTTP 402" in str(err.value)


def test_collection_graph_get_leaves_out_none(mb: MB) -> None:
    """Control: a revoked collection pair is absent from the live graph."""
    gid = group(mb, "NC Viewers")
    cid = int(mb.engine.up("c1", CollectionProvider(), {"name": mb.name("NC")})["collection_id"])
    mb.engine.up(
        "cperm",
        PermissionsGraphProvider(),
        {
            "kind": "collection",
            "entries": [{"group_id": gid, "collection_id": cid, "access": "read"}],
        },
    )
    mb.engine.up(
        "cperm",
        PermissionsGraphProvider(),
        {
            "kind": "collection",
            "entries": [{"group_id": gid, "collection_id": cid, "access": "none"}],
        },
    )
    assert str(cid) not in mb.client().get("collection/graph")["groups"].get(str(gid), {})


def test_collection_none_shows_no_change_after_refresh(mb: MB) -> None:
    gid = group(mb, "NC Viewers")
    cid = int(mb.engine.up("c1", CollectionProvider(), {"name": mb.name("NC")})["collection_id"])
    inputs = {
        "kind": "collection",
        "entries": [
            {"group_id": gid, "collection_id": cid, "access": "none"},
            {"group_id": gid, "collection_id": "root", "access": "none"},
        ],
    }
    mb.engine.up("cperm", PermissionsGraphProvider(), inputs)
    mb.engine.refresh("cperm")
    assert mb.engine.preview("cperm", PermissionsGraphProvider(), inputs).changes is False


@double_only
def test_collection_none_already_in_place_puts_nothing(mb: MB) -> None:
    gid = group(mb, "NC Viewers")
    cid = int(mb.engine.up("c1", CollectionProvider(), {"name": mb.name("NC")})["collection_id"])
    revision = mb.double.collection_revision
    mb.engine.up(
        "cperm",
        PermissionsGraphProvider(),
        {
            "kind": "collection",
            "entries": [{"group_id": gid, "collection_id": cid, "access": "none"}],
        },
    )
    assert mb.double.collection_revision == revision


@double_only
def test_group_create_after_a_router_502_adopts_the_group_it_made(mb: MB) -> None:
    mb.double.faults.once.append(("POST", "/api/permissions/group", "502-after"))
    gid = group(mb, "Global Viewers")
    named = [g for g in mb.double.groups.values() if g["name"] == mb.name("Global Viewers")]
    assert mb.double.faults.injected["502-after"] == 1  # the double did make it (control)
    assert [g["id"] for g in named] == [gid] and mb.double.stats["groups_created"] == 1


def test_group_create_adopts_the_group_an_earlier_run_made(mb: MB) -> None:
    first = group(mb, "Global Viewers")
    del mb.engine.state["g-Global Viewers"]  # the run died before recording the group
    assert group(mb, "Global Viewers") == first


def others(gid: int) -> dict[str, Any]:
    return {
        "kind": "data",
        "entries": [{"group_id": gid, "database_id": "*", "permissions": NOTHING}],
    }


def test_other_databases_entry_takes_every_unlisted_database_away(mb: MB) -> None:
    gid, db = group(mb, "GV"), mb.sample_db_id()
    assert data_graph(mb)[str(gid)][str(db)]["create-queries"] != "no"  # control: copied grant
    mb.engine.up("perm", PermissionsGraphProvider(), others(gid))
    assert data_graph(mb)[str(gid)][str(db)] == {"view-data": "unrestricted"}


def test_other_databases_entry_shows_no_change_after_refresh(mb: MB) -> None:
    gid = group(mb, "GV")
    mb.engine.up("perm", PermissionsGraphProvider(), others(gid))
    mb.engine.refresh("perm")
    assert mb.engine.preview("perm", PermissionsGraphProvider(), others(gid)).changes is False


def test_grant_by_hand_on_an_unlisted_database_is_drift(mb: MB) -> None:
    gid, db = group(mb, "GV"), mb.sample_db_id()
    mb.engine.up("perm", PermissionsGraphProvider(), others(gid))
    graph = mb.client().get("permissions/graph")
    mb.client().put(
        "permissions/graph",
        {
            "revision": graph["revision"],
            "groups": {str(gid): {str(db): {"create-queries": "query-builder"}}},
        },
    )
    mb.engine.refresh("perm")
    assert mb.engine.preview("perm", PermissionsGraphProvider(), others(gid)).changes is True
    mb.engine.up("perm", PermissionsGraphProvider(), others(gid))
    assert "create-queries" not in data_graph(mb)[str(gid)][str(db)]


def test_listed_database_is_not_overridden_by_the_other_databases_entry(mb: MB) -> None:
    gid, db = group(mb, "GV"), mb.sample_db_id()
    inputs = others(gid)
    listed = {**NOTHING, "create-queries": "query-builder"}
    inputs["entries"].append({"group_id": gid, "database_id": db, "permissions": listed})
    mb.engine.up("perm", PermissionsGraphProvider(), inputs)
    assert data_graph(mb)[str(gid)][str(db)]["create-queries"] == "query-builder"


def test_dropping_the_entry_of_a_deleted_database_puts_nothing_for_it(mb: MB) -> None:
    gid = group(mb, "GV")
    db = mb.client().post(
        "database",
        {
            "name": mb.name("Gone soon"),
            "engine": "postgres",
            "details": {"host": "h.example.org", "port": 5432, "dbname": "d", "user": "u",
                        "password": "p"},
        },
    )["id"]  # fmt: skip
    entry = {"group_id": gid, "database_id": db, "permissions": NATIVE}
    mb.engine.up("perm", PermissionsGraphProvider(), {"kind": "data", "entries": [entry]})
    mb.client().delete(f"database/{db}")
    mb.engine.up("perm", PermissionsGraphProvider(), {"kind": "data", "entries": []})
    assert str(db) not in data_graph(mb).get(str(gid), {})


@double_only
def test_metabase_refuses_permissions_for_a_missing_database(mb: MB) -> None:
    """Control: revoking on a deleted database would fail the whole PUT."""
    from components.metabase.client import MetabaseError

    gid = group(mb, "GV")
    graph = mb.client().get("permissions/graph")
    with pytest.raises(MetabaseError) as err:
        mb.client().put(
            "permissions/graph",
            {
                "revision": graph["revision"],
                "groups": {str(gid): {"999999": {"create-queries": "no"}}},
            },
        )
    assert err.value.status == 400


@double_only
def test_a_502_after_group_create_leaves_the_group_made(mb: MB) -> None:
    """Control for the group adoption: the POST behind the router's 502 did create the group, and
    posting it again is refused (permissions_group.clj check-name-not-already-taken)."""
    from components.metabase.client import MetabaseError, MetabaseTransientError

    mb.double.faults.once.append(("POST", "/api/permissions/group", "502-after"))
    name = mb.name("Global Viewers")
    with pytest.raises(MetabaseTransientError):
        mb.client().post("permissions/group", {"name": name})
    assert [g["name"] for g in mb.double.groups.values()].count(name) == 1
    with pytest.raises(MetabaseError, match="already exists"):
        mb.client().post("permissions/group", {"name": name})
