"""Permission groups and the data / collection permission graphs.

The graph resources touch only the (group, database|collection) pairs they declare: they read the
live graph, compare each declared pair with it, and ``PUT`` only the pairs (and, for data, only
the permission types) that differ, with the live ``revision``. A no-op ``up`` sends no PUT: every
PUT makes a new revision on the server. A stale revision (``409``) is re-read and retried once.
Entries dropped from the program (or the whole resource on delete) are revoked (``none`` /
``create-queries: no`` + no downloads); other groups are never sent.

Both graphs are **sparse** on GET: Metabase leaves out every value equal to the least permissive
one of its type (data_permissions/graph.clj ``ellide?``: view-data ``blocked``, create-queries
``no``, download/data-model none, details ``no``; the collection graph leaves out ``none`` since
0.56.13). A missing value therefore *is* the least permissive one here, so a refresh followed by a
preview shows no change for a pair declared with such a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from .base import (
    MetabaseConnection,
    MetabaseProvider,
    as_int_id,
    connection_input,
    is_unknown,
    require_fields,
    secret_opts,
)
from .client import MetabaseClient, MetabaseConflict, MetabaseNotFound
from .normalize import project, same

BUILTIN_GROUPS = {"All Users": 1, "Administrators": 2}
COLLECTION_ACCESS = ("read", "write", "none")
GRAPH_PATHS = {"data": "permissions/graph", "collection": "collection/graph"}
OBJECT_KEYS = {"data": "database_id", "collection": "collection_id"}
#: a data entry for every database the group has no explicit entry for
OTHER_DATABASES = "*"
VALUE_KEYS = {"data": "permissions", "collection": "access"}
#: what GET leaves out, per data permission type (the least permissive API value)
DATA_LEAST: dict[str, Any] = {
    "view-data": "blocked",
    "create-queries": "no",
    "download": {"schemas": "none"},
    "data-model": {"schemas": "none"},
    "details": "no",
}
REVOKED: dict[str, Any] = {
    "data": {"create-queries": "no", "download": {"schemas": "none"}},
    "collection": "none",
}


def full_data_value(live: Any) -> dict[str, Any]:
    """A live (sparse) data permission with every left-out type filled in."""
    value = dict(DATA_LEAST)
    if isinstance(live, Mapping):
        value.update({k: v for k, v in live.items() if v is not None})
    return value


def live_value(kind: str, groups: Mapping[str, Any], pair: tuple[str, str]) -> Any:
    """The live value of one pair, missing = least permissive."""
    g, o = pair
    live = (groups.get(g) or {}).get(o)
    if kind == "data":
        return full_data_value(live)
    return live or "none"


def declared_value(kind: str, value: Any) -> Any:
    if kind == "data" and isinstance(value, Mapping):
        return {k: v for k, v in value.items() if v is not None}
    return value


class PermissionsGroupProvider(MetabaseProvider):
    managed = ("name",)

    def validate(self, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = require_fields(news, ("name",), "PermissionsGroup")
        if news.get("name") in BUILTIN_GROUPS:
            failures.append(("name", f"PermissionsGroup.name {news['name']!r} is a built-in group"))
        return failures

    def _find(self, client: MetabaseClient, name: str) -> dict[str, Any] | None:
        for group in client.list_data("permissions/group"):
            if group.get("name") == name:
                return group
        return None

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self.client(props)
        group = self._find(client, props["name"]) or client.create_adopting(
            lambda: client.post("permissions/group", {"name": props["name"]}),
            lambda: self._find(client, props["name"]),
            f"group {props['name']!r}",
        )
        return CreateResult(id_=str(group["id"]), outs={**props, "group_id": int(group["id"])})

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self.client(news).put(f"permissions/group/{id_}", {"name": news["name"]})
        return UpdateResult(outs={**news, "group_id": int(id_)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            group = self.client(props).get(f"permissions/group/{id_}")
        except MetabaseNotFound:
            return ReadResult(id_="", outs={})
        return ReadResult(id_=id_, outs={**props, "name": group.get("name"), "group_id": int(id_)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.client(props).delete(f"permissions/group/{id_}")


@dataclass
class PermissionsGroupArgs:
    name: pulumi.Input[str]
    connection: MetabaseConnection | None = None


class PermissionsGroup(Resource, module="metabase", name="PermissionsGroup"):
    group_id: pulumi.Output[int]

    def __init__(
        self, name: str, args: PermissionsGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "connection": connection_input(args.connection),
            "name": args.name,
            "group_id": None,
        }
        provider = PermissionsGroupProvider()
        super().__init__(provider, name, props, secret_opts(opts, provider.secret_outputs))


# ---------------------------------------------------------------------- graphs
def _pairs(kind: str, entries: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], Any]:
    obj_key, value_key = OBJECT_KEYS[kind], VALUE_KEYS[kind]
    out = {}
    for e in entries or []:
        obj = e.get(obj_key)
        if obj == OTHER_DATABASES and kind == "data":
            obj_s = OTHER_DATABASES
        else:
            obj_s = "root" if obj in (None, "root") else str(as_int_id(obj))
        out[(str(as_int_id(e.get("group_id"))), obj_s)] = e.get(value_key)
    return out


def _entries(kind: str, pairs: Mapping[tuple[str, str], Any]) -> list[dict[str, Any]]:
    obj_key, value_key = OBJECT_KEYS[kind], VALUE_KEYS[kind]
    return [
        {"group_id": int(g), obj_key: o if o in ("root", OTHER_DATABASES) else int(o), value_key: v}
        for (g, o), v in sorted(pairs.items())
    ]


def expand_others(
    kind: str, pairs: Mapping[tuple[str, str], Any], database_ids: Sequence[Any]
) -> dict[tuple[str, str], Any]:
    """Replace each ``(group, "*")`` data pair by one pair per database the group has no
    explicit entry for (the Sample Database, databases added by hand later)."""
    if kind != "data":
        return dict(pairs)
    out = {p: v for p, v in pairs.items() if p[1] != OTHER_DATABASES}
    for (g, o), value in pairs.items():
        if o != OTHER_DATABASES:
            continue
        for db in database_ids:
            out.setdefault((g, str(db)), value)
    return out


def existing_objects(groups: Mapping[str, Any]) -> list[str]:
    """Databases (data graph) or collections (collection graph) that exist: the server always
    reports Administrators with every one of them (data_permissions/graph.clj
    ``add-admin-perms-to-permissions-graph``, collection/graph.clj query 3)."""
    admin = groups.get(str(BUILTIN_GROUPS["Administrators"])) or {}
    return [o for o in admin if o != "root"]


def pending_changes(
    kind: str,
    groups: Mapping[str, Any],
    wanted: Mapping[tuple[str, str], Any],
    revoke: Mapping[tuple[str, str], Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """What a PUT must carry so the live graph matches: ``{group: {object: value}}``.

    Data values carry only the permission types that differ (the server sets each type sent and
    leaves the others alone). Empty when the live graph already matches.
    """
    changes = {p: declared_value(kind, v) for p, v in wanted.items()}
    for pair in revoke or {}:
        changes.setdefault(pair, REVOKED[kind])
    payload: dict[str, dict[str, Any]] = {}
    for (g, o), target in changes.items():
        current = live_value(kind, groups, (g, o))
        if kind == "data":
            diff = {k: v for k, v in target.items() if not same(current.get(k), v)}
            if diff:
                payload.setdefault(g, {})[o] = diff
        elif not same(current, target):
            payload.setdefault(g, {})[o] = target
    return payload


def apply_graph(
    client: MetabaseClient,
    kind: str,
    wanted: Mapping[tuple[str, str], Any],
    revoke: Mapping[tuple[str, str], Any] | None = None,
) -> int | None:
    """PUT the declared pairs (and revocations) that differ from the live graph; nothing if none.

    Returns the new revision (None when nothing needed changing).
    """
    path = GRAPH_PATHS[kind]
    for attempt in range(2):
        graph = client.get(path)
        groups = {str(g): dict(v or {}) for g, v in (graph.get("groups") or {}).items()}
        existing = set(existing_objects(groups)) | {"root"}
        ids = sorted(existing - {"root"}, key=int)
        # a dropped pair whose database/collection is gone needs no revoking
        gone = {p: v for p, v in expand_others(kind, revoke or {}, ids).items() if p[1] in existing}
        payload = pending_changes(kind, groups, expand_others(kind, wanted, ids), gone)
        if not payload:
            return None
        try:
            resp = client.put(path, {"revision": graph.get("revision"), "groups": payload})
        except MetabaseConflict:
            if attempt == 1:
                raise
            continue
        return (resp or {}).get("revision") if isinstance(resp, dict) else None
    return None


def live_pairs(
    client: MetabaseClient, kind: str, declared: Mapping[tuple[str, str], Any]
) -> dict[tuple[str, str], Any]:
    """Live values of the declared pairs (data values projected onto the declared keys),
    a left-out value read as the least permissive one."""
    graph = client.get(GRAPH_PATHS[kind])
    groups = {str(g): v or {} for g, v in (graph.get("groups") or {}).items()}
    database_ids = sorted(existing_objects(groups), key=int)

    def one(pair: tuple[str, str], value: Any) -> Any:
        live = live_value(kind, groups, pair)
        return project(live, declared_value(kind, value)) if kind == "data" else live

    out = {}
    for pair, value in declared.items():
        if pair[1] != OTHER_DATABASES:
            out[pair] = one(pair, value)
            continue
        # "every other database": the declared value if all of them have it, else the first
        # one that differs (so a grant made by hand on any of them shows as drift)
        others = expand_others(kind, {pair: value}, database_ids)
        explicit = {o for g, o in declared if g == pair[0]}
        lives = [one(p, value) for p in others if p[1] not in explicit]
        wanted = declared_value(kind, value)
        out[pair] = next((lv for lv in lives if not same(lv, wanted)), wanted)
    return out


class PermissionsGraphProvider(MetabaseProvider):
    managed = ("entries",)
    replace_on = ("kind",)

    def validate(self, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        kind = news.get("kind")
        if kind not in GRAPH_PATHS:
            return [("kind", f"permissions graph kind must be one of {tuple(GRAPH_PATHS)}")]
        entries = news.get("entries")
        if is_unknown(entries):
            return []
        if not isinstance(entries, list):
            return [("entries", "entries must be a list")]
        failures = []
        obj_key, value_key = OBJECT_KEYS[kind], VALUE_KEYS[kind]
        seen: set[tuple[Any, Any]] = set()
        for i, e in enumerate(entries):
            where = f"entries[{i}]"
            if not isinstance(e, dict) or is_unknown(e):
                continue
            if e.get("group_id") is None or (kind == "data" and e.get(obj_key) is None):
                failures.append((where, f"{where} needs group_id and {obj_key}"))
                continue
            if kind == "collection" and e.get(obj_key) == OTHER_DATABASES:
                failures.append(
                    (f"{where}.{obj_key}", f"{where}: {OTHER_DATABASES!r} is for data entries only")
                )
                continue
            if as_int_id(e["group_id"]) == BUILTIN_GROUPS["Administrators"]:
                failures.append(
                    (f"{where}.group_id", "Administrators' permissions cannot be changed")
                )
            value = e.get(value_key)
            if kind == "collection" and value not in COLLECTION_ACCESS:
                failures.append(
                    (f"{where}.access", f"{where}.access must be one of {COLLECTION_ACCESS}")
                )
            if kind == "data" and not isinstance(value, dict):
                failures.append((f"{where}.permissions", f"{where}.permissions must be a mapping"))
            pair = (as_int_id(e["group_id"]), e.get(obj_key))
            if pair in seen:
                failures.append((where, f"{where} repeats group {pair[0]} / {obj_key} {pair[1]}"))
            seen.add(pair)
        return failures

    def comparable(self, key: str, value: Any, props: Mapping[str, Any]) -> Any:
        kind = props.get("kind") or "data"
        pairs = {p: declared_value(kind, v) for p, v in _pairs(kind, value or []).items()}
        if kind == "data":  # a declared least-permissive value and a left-out one are the same
            pairs = {p: project(full_data_value(v), v) for p, v in pairs.items()}
        return _entries(kind, pairs)

    def create(self, props: dict[str, Any]) -> CreateResult:
        apply_graph(self.client(props), props["kind"], _pairs(props["kind"], props["entries"]))
        return CreateResult(id_=f"{props['kind']}-permissions", outs=dict(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        kind = news["kind"]
        wanted = _pairs(kind, news["entries"])
        dropped = {p: None for p in _pairs(kind, olds.get("entries") or []) if p not in wanted}
        apply_graph(self.client(news), kind, wanted, dropped)
        return UpdateResult(outs=dict(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        kind = props["kind"]
        live = live_pairs(self.client(props), kind, _pairs(kind, props.get("entries") or []))
        return ReadResult(id_=id_, outs={**props, "entries": _entries(kind, live)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        kind = props["kind"]
        revoke = {p: None for p in _pairs(kind, props.get("entries") or [])}
        apply_graph(self.client(props), kind, {}, revoke)


@dataclass
class DataPermissionsArgs:
    """``entries``: ``[{"group_id", "database_id", "permissions": {"view-data": ...,
    "create-queries": "query-builder-and-native" | "query-builder" | "no",
    "download": {...}}}]``. ``database_id: "*"`` stands for every database the group has no
    other entry for (the Sample Database, databases added by hand), as found at each ``up``."""

    entries: pulumi.Input[list[Mapping[str, Any]]] = field(default_factory=list)
    connection: MetabaseConnection | None = None


@dataclass
class CollectionPermissionsArgs:
    """``entries``: ``[{"group_id", "collection_id" (or "root"), "access": read|write|none}]``."""

    entries: pulumi.Input[list[Mapping[str, Any]]] = field(default_factory=list)
    connection: MetabaseConnection | None = None


class DataPermissions(Resource, module="metabase", name="DataPermissions"):
    def __init__(
        self, name: str, args: DataPermissionsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "connection": connection_input(args.connection),
            "kind": "data",
            "entries": args.entries,
        }
        provider = PermissionsGraphProvider()
        super().__init__(provider, name, props, secret_opts(opts, provider.secret_outputs))


class CollectionPermissions(Resource, module="metabase", name="CollectionPermissions"):
    def __init__(
        self, name: str, args: CollectionPermissionsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "connection": connection_input(args.connection),
            "kind": "collection",
            "entries": args.entries,
        }
        provider = PermissionsGraphProvider()
        super().__init__(provider, name, props, secret_opts(opts, provider.secret_outputs))
