"""Collection: a folder for cards and dashboards. v0.56 has no DELETE: delete archives it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from .base import (
    MetabaseConnection,
    MetabaseProvider,
    adopt_by_id,
    as_int_id,
    check_type,
    connection_input,
    is_unknown,
    require_fields,
    secret_opts,
)
from .client import MetabaseClient, MetabaseError, MetabaseNotFound


def parent_of_location(location: str | None) -> int | None:
    """``"/"`` → None (root); ``"/12/34/"`` → 34."""
    parts = [p for p in (location or "/").split("/") if p]
    return int(parts[-1]) if parts else None


class CollectionProvider(MetabaseProvider):
    managed = ("name", "description", "parent_id", "archived")

    def defaults(self) -> dict[str, Any]:
        return {"archived": False}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        news = dict(news)
        if isinstance(news.get("description"), str) and not news["description"].strip():
            news["description"] = None
        news["parent_id"] = as_int_id(news.get("parent_id"))
        return super().check(olds, news)

    def validate(self, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = require_fields(news, ("name",), "Collection")
        failures += check_type(news, "description", str, "Collection", "a string or null")
        parent = news.get("parent_id")
        if parent is not None and not is_unknown(parent) and not isinstance(parent, int):
            failures.append(
                ("parent_id", f"Collection.parent_id must be a collection id, got {parent!r}")
            )
        return failures

    def comparable(self, key: str, value: Any, props: Mapping[str, Any]) -> Any:
        if key == "parent_id":
            return as_int_id(value)
        if key == "archived":
            return bool(value)
        return value

    def _find(self, client: MetabaseClient, props: Mapping[str, Any]) -> dict[str, Any] | None:
        parent = as_int_id(props.get("parent_id"))
        for coll in client.list_data("collection"):
            if (
                isinstance(coll.get("id"), int)
                and coll.get("name") == props["name"]
                and not coll.get("archived")
                and not coll.get("personal_owner_id")
                and parent_of_location(coll.get("location")) == parent
            ):
                return coll
        return None

    def _body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": props["name"],
            "description": props.get("description"),
            "parent_id": as_int_id(props.get("parent_id")),
        }

    def _outs(self, props: Mapping[str, Any], coll: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **props,
            "archived": False,
            "collection_id": int(coll["id"]),
            "entity_id": coll.get("entity_id"),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self.client(props)
        coll = adopt_by_id(client, "collection", props) or self._find(client, props)
        if coll is not None:
            coll = client.put(f"collection/{coll['id']}", {**self._body(props), "archived": False})
        else:
            coll = client.create_adopting(
                lambda: client.post("collection", self._body(props)),
                lambda: self._find(client, props),
                f"collection {props['name']!r}",
            )
        return CreateResult(id_=str(coll["id"]), outs=self._outs(props, coll))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        coll = self.client(news).put(f"collection/{id_}", {**self._body(news), "archived": False})
        return UpdateResult(outs=self._outs(news, coll or {"id": id_, **olds}))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            coll = self.client(props).get(f"collection/{id_}")
        except MetabaseNotFound:
            return ReadResult(id_="", outs={})
        archived = bool(coll.get("archived"))
        parent = coll.get("parent_id")
        if "parent_id" not in coll:
            parent = parent_of_location(coll.get("location"))
        outs = {
            **props,
            "name": coll.get("name"),
            "description": coll.get("description"),
            # an archived collection reports the Trash as parent: that is not a move
            "parent_id": as_int_id(props.get("parent_id")) if archived else as_int_id(parent),
            "archived": archived,
            "collection_id": int(coll["id"]),
            "entity_id": coll.get("entity_id"),
        }
        return ReadResult(id_=str(coll["id"]), outs=outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            self.client(props).put(f"collection/{id_}", {"archived": True})
        except MetabaseNotFound:
            return
        except MetabaseError as exc:
            if "archived" in exc.message.lower():
                return  # already in the Trash
            raise


@dataclass
class CollectionArgs:
    name: pulumi.Input[str]
    description: pulumi.Input[str] | None = None
    parent_id: pulumi.Input[int] | None = None
    connection: MetabaseConnection | None = None
    #: an existing object to take over on create (stack config metabaseAdopt); not diffed
    adopt_id: int | None = None


class Collection(Resource, module="metabase", name="Collection"):
    """A collection; ``collection_id`` is what cards/dashboards/graphs take."""

    collection_id: pulumi.Output[int]
    entity_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: CollectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "connection": connection_input(args.connection),
            "name": args.name,
            "description": args.description,
            "parent_id": args.parent_id,
            "collection_id": None,
            "entity_id": None,
        }
        if args.adopt_id:
            props["adopt_id"] = args.adopt_id
        provider = CollectionProvider()
        super().__init__(provider, name, props, secret_opts(opts, provider.secret_outputs))
