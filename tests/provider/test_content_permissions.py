"""Issue 11 item 5 on the Metabase double: the content's permission plan, applied by the graph
providers, leaves All Users nothing and the global (owner) database to admins + Global Viewers.

Each defence has a control showing what the server does without it (a fresh Metabase lets All
Users curate the root collection, a new top-level collection copies that, a new database and a
new group get native SQL), so the defence test fails if the plan stops saying "nothing".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from conftest import MB, double_only

from components.metabase.collection import CollectionProvider
from components.metabase.permissions import PermissionsGraphProvider, PermissionsGroupProvider
from components.metabase_content import ALL_USERS_GROUP_ID, permission_entries
from components.metabase_content.definitions import GLOBAL, load_definitions, render

pytestmark = double_only  # reads and resets the double's own state


@dataclass(frozen=True)
class Tenant:
    slug: str
    white_label_id: int
    title: str
    role_name: str
    state_codes: tuple[str, ...]


TENANTS = [
    Tenant("nc", 5, "North Carolina", "wl_nc_5_ro", ("NC",)),
    Tenant("co", 7, "Colorado", "wl_co_7_ro", ("CO",)),
]
PG = {"host": "pg.example.org", "port": 5432, "dbname": "mfb", "user": "u", "password": "pw"}


@pytest.fixture
def world(mb: MB) -> dict[str, Any]:
    """The plan's groups, collections and databases made on the double (no graph applied)."""
    mb.double.bq_datasets["analytics"] = ["mart_ga_kpi_summary"]
    plan = render(load_definitions(), TENANTS, bigquery=True, bq_dataset="mfb-prod.analytics")
    client = mb.client()
    groups = {
        g.ref: int(
            mb.engine.up(f"g-{g.scope}-{g.key}", PermissionsGroupProvider(), {"name": g.name})[
                "group_id"
            ]
        )
        for g in plan.groups
    }
    collections = {
        c.ref: int(
            mb.engine.up(f"c-{c.scope}-{c.key}", CollectionProvider(), {"name": c.name})[
                "collection_id"
            ]
        )
        for c in plan.collections
    }
    sa = '{"type": "service_account", "private_key": "k"}'
    databases = {}
    for d in plan.databases:
        if d.engine == "postgres":
            body = {"name": d.name, "engine": "postgres", "details": {**PG, "user": d.name}}
        else:
            details = {
                "project-id": "mfb-prod",
                "dataset-filters-type": "inclusion",
                "dataset-filters-patterns": "analytics",
                "service-account-json": sa,
            }
            body = {"name": d.name, "engine": "bigquery-cloud-sdk", "details": details}
        databases[d.ref] = int(client.post("database", body)["id"])
    return {"plan": plan, "groups": groups, "collections": collections, "databases": databases}


def apply_plan(mb: MB, world: dict[str, Any]) -> None:
    coll, data = permission_entries(
        world["plan"],
        group_ids=world["groups"],
        collection_ids=world["collections"],
        database_ids=world["databases"],
    )
    mb.engine.up("cperm", PermissionsGraphProvider(), {"kind": "collection", "entries": coll})
    mb.engine.up("dperm", PermissionsGraphProvider(), {"kind": "data", "entries": data})


def data_graph(mb: MB) -> dict[str, Any]:
    return mb.client().get("permissions/graph")["groups"]


def coll_graph(mb: MB) -> dict[str, Any]:
    return mb.client().get("collection/graph")["groups"]


def can_query(perms: dict[str, Any] | None) -> bool:
    return (perms or {}).get("create-queries", "no") != "no"


# ---------------------------------------------------------------- All Users: databases
def test_by_default_all_users_can_query_every_new_database(mb: MB, world) -> None:
    """Control: Metabase gives All Users native SQL on each database it adds."""
    live = data_graph(mb)[str(ALL_USERS_GROUP_ID)]
    assert all(
        live[str(db)]["create-queries"] == "query-builder-and-native"
        for db in world["databases"].values()
    )


def test_all_users_can_query_and_download_nothing_on_any_managed_database(mb: MB, world) -> None:
    apply_plan(mb, world)
    live = data_graph(mb).get(str(ALL_USERS_GROUP_ID), {})
    for db in world["databases"].values():
        assert live.get(str(db), {}).keys() <= {"view-data"}, live.get(str(db))


def test_a_database_added_later_by_hand_gives_all_users_no_queries(mb: MB, world) -> None:
    """Once All Users is at "no" everywhere, Metabase's new-database default follows it."""
    apply_plan(mb, world)
    extra = mb.client().post("database", {"name": "Hand made", "engine": "postgres", "details": PG})
    assert not can_query(data_graph(mb).get(str(ALL_USERS_GROUP_ID), {}).get(str(extra["id"])))


# ---------------------------------------------------------------- All Users: collections
def test_by_default_all_users_curate_root_and_every_new_collection(mb: MB, world) -> None:
    """Control: root is writable by All Users and top-level collections copy it."""
    live = coll_graph(mb)[str(ALL_USERS_GROUP_ID)]
    assert live["root"] == "write"
    assert all(live[str(c)] == "write" for c in world["collections"].values())


def test_all_users_have_nothing_in_root_or_any_managed_collection(mb: MB, world) -> None:
    apply_plan(mb, world)
    assert coll_graph(mb).get(str(ALL_USERS_GROUP_ID), {}) == {}


def test_a_collection_made_later_in_root_is_not_open_to_all_users(mb: MB, world) -> None:
    apply_plan(mb, world)
    extra = mb.client().post("collection", {"name": "Made in the UI"})
    assert str(extra["id"]) not in coll_graph(mb).get(str(ALL_USERS_GROUP_ID), {})


# ---------------------------------------------------------------- the global (owner) database
def _global_pg(world) -> int:
    (ref,) = [
        d.ref for d in world["plan"].databases if d.scope == GLOBAL and d.engine == "postgres"
    ]
    return world["databases"][ref]


def _names(mb: MB, world, gids) -> set[str]:
    names = {str(gid): name for gid, name in ((2, "Administrators"), (1, "All Users"))}
    for g in world["plan"].groups:
        names[str(world["groups"][g.ref])] = g.name
    return {names[g] for g in gids}


def test_by_default_every_new_group_can_query_the_global_database(mb: MB, world) -> None:
    """Control: a new group copies All Users' native SQL on each database."""
    db = str(_global_pg(world))
    querying = {g for g, dbs in data_graph(mb).items() if can_query(dbs.get(db))}
    assert _names(mb, world, querying) >= {"All Users", "North Carolina Viewers"}


def test_only_admins_and_global_viewers_can_query_the_global_database(mb: MB, world) -> None:
    apply_plan(mb, world)
    db = str(_global_pg(world))
    querying = {g for g, dbs in data_graph(mb).items() if can_query(dbs.get(db))}
    assert _names(mb, world, querying) == {"Administrators", "Global Viewers"}


def test_tenant_groups_query_only_their_own_database(mb: MB, world) -> None:
    apply_plan(mb, world)
    graph = data_graph(mb)
    own = {d.scope: world["databases"][d.ref] for d in world["plan"].databases if d.scope != GLOBAL}
    kinds = {s.key: s.kind for s in world["plan"].scopes}
    for g in world["plan"].groups:
        if g.scope == GLOBAL:
            continue
        # overlay viewers (CU Denver, CPAL) only see saved cards: no query access anywhere
        expected = {own[g.scope]} if kinds[g.scope] == "tenant" else set()
        dbs = graph.get(str(world["groups"][g.ref]), {})
        assert {int(db) for db, p in dbs.items() if can_query(p)} == expected, g.name


def test_tenant_groups_see_only_their_own_collection(mb: MB, world) -> None:
    apply_plan(mb, world)
    graph = coll_graph(mb)
    for g in world["plan"].groups:
        if g.scope == GLOBAL:
            continue
        mine = str(world["collections"][(g.scope, "main")])
        assert set(graph.get(str(world["groups"][g.ref]), {})) == {mine}, g.name


def test_applying_the_plan_twice_puts_no_graph(mb: MB, world) -> None:
    apply_plan(mb, world)
    mb.engine.refresh("cperm")
    mb.engine.refresh("dperm")
    revisions = (mb.double.data_revision, mb.double.collection_revision)
    apply_plan(mb, world)
    assert (mb.double.data_revision, mb.double.collection_revision) == revisions
