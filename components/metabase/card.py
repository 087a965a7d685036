"""Card: a saved question (native SQL, or MBQL) with display and visualization settings.

Idempotent create: every card gets a client-chosen ``entity_id`` derived from the stack and the
Pulumi resource name, so a ``POST`` whose response was lost (or a run that died after it) is found
by ``GET /api/card/<entity_id>`` and adopted instead of duplicated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from .base import (
    MetabaseConnection,
    MetabaseProvider,
    as_int_id,
    check_type,
    connection_input,
    is_unknown,
    require_fields,
    secret_opts,
)
from .client import MetabaseClient, MetabaseError, MetabaseNotFound, MetabaseTransientError
from .normalize import (
    comparable_tags,
    native_dataset_query,
    native_query_of,
    normalize_sql,
    project,
    strip_none,
)

DISPLAYS = (
    "table",
    "scalar",
    "bar",
    "row",
    "line",
    "area",
    "pie",
    "funnel",
    "combo",
    "map",
    "progress",
    "gauge",
    "smartscalar",
    "waterfall",
    "scatter",
    "pivot",
    "object",
    "text",
)
CARD_TYPES = ("question", "model", "metric")
TAG_TYPES = ("text", "number", "date", "dimension", "card", "snippet", "temporal-unit")
NANOID_ALPHABET = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def derive_entity_id(*parts: str) -> str:
    """A stable 21-character NanoID-alphabet id from ``parts`` (idempotency key)."""
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return "".join(NANOID_ALPHABET[b % 64] for b in digest[:21])


class CardProvider(MetabaseProvider):
    managed = (
        "name",
        "description",
        "collection_id",
        "database_id",
        "sql",
        "mbql",
        "template_tags",
        "display",
        "visualization_settings",
        "type",
        "parameters",
        "archived",
    )

    def defaults(self) -> dict[str, Any]:
        return {
            "template_tags": {},
            "visualization_settings": {},
            "display": "table",
            "type": "question",
            "parameters": [],
            "archived": False,
        }

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        news = dict(news)
        for key in ("collection_id", "database_id"):
            news[key] = as_int_id(news.get(key))
        if isinstance(news.get("description"), str) and not news["description"].strip():
            news["description"] = None
        if not news.get("entity_id") and olds.get("entity_id"):
            news["entity_id"] = olds["entity_id"]
        return super().check(olds, news)

    def validate(self, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = require_fields(news, ("name", "database_id"), "Card")
        has_sql, has_mbql = bool(news.get("sql")), bool(news.get("mbql"))
        if has_sql == has_mbql:
            failures.append(("sql", "Card needs exactly one of sql (native) or mbql (query)"))
        for key in ("database_id", "collection_id"):
            value = news.get(key)
            if value is not None and not is_unknown(value) and not isinstance(value, int):
                failures.append((key, f"Card.{key} must be an integer id, got {value!r}"))
        display = news.get("display")
        if display and not is_unknown(display) and display not in DISPLAYS:
            failures.append(("display", f"Card.display {display!r} is not one of {DISPLAYS}"))
        ctype = news.get("type")
        if ctype and not is_unknown(ctype) and ctype not in CARD_TYPES:
            failures.append(("type", f"Card.type must be one of {CARD_TYPES}, got {ctype!r}"))
        failures += check_type(news, "visualization_settings", dict, "Card", "a mapping")
        failures += check_type(news, "template_tags", dict, "Card", "a mapping of name → tag")
        failures += check_type(news, "parameters", list, "Card", "a list")
        failures += self._validate_tags(news)
        entity_id = news.get("entity_id")
        if entity_id and not is_unknown(entity_id) and len(str(entity_id)) != 21:
            failures.append(("entity_id", "Card.entity_id must be 21 characters (NanoID)"))
        return failures

    @staticmethod
    def _validate_tags(news: Mapping[str, Any]) -> list[tuple[str, str]]:
        tags = news.get("template_tags")
        sql = news.get("sql")
        if not isinstance(tags, dict) or is_unknown(tags):
            return []
        failures = []
        for name, tag in tags.items():
            where = f"template_tags.{name}"
            if not isinstance(tag, dict):
                failures.append((where, f"Card.{where} must be a mapping"))
                continue
            if tag.get("type") not in TAG_TYPES:
                failures.append((where, f"Card.{where}.type must be one of {TAG_TYPES}"))
            if tag.get("type") == "dimension" and not tag.get("dimension"):
                failures.append((where, f"Card.{where} is a field filter: it needs dimension"))
            if (
                isinstance(sql, str)
                and not is_unknown(sql)
                and "{{" + name + "}}" not in sql.replace(" ", "")
            ):
                failures.append((where, f"Card.{where} is not used as {{{{{name}}}}} in sql"))
        return failures

    # ------------------------------------------------------------------ diff helpers
    def comparable(self, key: str, value: Any, props: Mapping[str, Any]) -> Any:
        if key == "sql":
            return normalize_sql(value)
        if key in ("collection_id", "database_id"):
            return as_int_id(value)
        if key == "description":
            return value or None
        if key == "archived":
            return bool(value)
        if key in ("visualization_settings", "template_tags", "mbql"):
            return strip_none(value or {})
        if key == "parameters":
            return strip_none(value or [])
        return value

    # ------------------------------------------------------------------ CRUD
    def _body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        db = as_int_id(props["database_id"])
        if props.get("mbql"):
            query = {"database": db, "type": "query", "query": props["mbql"]}
        else:
            query = native_dataset_query(db, props["sql"], props.get("template_tags") or {})
        body = {
            "name": props["name"],
            "description": props.get("description"),
            "collection_id": as_int_id(props.get("collection_id")),
            "dataset_query": query,
            "display": props.get("display") or "table",
            "visualization_settings": props.get("visualization_settings") or {},
            "type": props.get("type") or "question",
        }
        if props.get("parameters"):
            body["parameters"] = props["parameters"]
        return body

    def _by_entity_id(self, client: MetabaseClient, entity_id: str) -> dict[str, Any] | None:
        card = client.get_or_none(f"card/{entity_id}")
        return card if isinstance(card, dict) and card.get("entity_id") == entity_id else None

    def _outs(self, props: Mapping[str, Any], card: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **props,
            "archived": False,
            "card_id": int(card["id"]),
            "entity_id": card.get("entity_id") or props.get("entity_id"),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self.client(props)
        body = self._body(props)
        entity_id = props.get("entity_id")
        if entity_id:
            body["entity_id"] = entity_id
        adopted: list[bool] = []

        def find() -> dict[str, Any] | None:
            found = self._by_entity_id(client, entity_id) if entity_id else None
            adopted.append(found is not None)
            return found

        try:
            card = client.create_adopting(
                lambda: client.post("card", body), find, f"card {props['name']!r}"
            )
        except MetabaseError as exc:
            if isinstance(exc, MetabaseTransientError) or not entity_id:
                raise
            existing = find()  # made by an earlier run that died before recording it?
            if existing is None:
                raise
            card = existing
        if card.get("archived") or (any(adopted) and self._drifted(card, props)):
            card = client.put(f"card/{card['id']}", {**self._body(props), "archived": False})
        return CreateResult(id_=str(card["id"]), outs=self._outs(props, card))

    def _drifted(self, card: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
        live = self._live_view(card, props)
        return any(
            self.comparable(k, live.get(k), live) != self.comparable(k, props.get(k), props)
            for k in self.managed
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        card = self.client(news).put(f"card/{id_}", {**self._body(news), "archived": False})
        return UpdateResult(outs=self._outs(news, card or {"id": id_}))

    def _live_view(self, card: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
        query = card.get("dataset_query") or {}
        database, sql, tags = native_query_of(query)
        archived = bool(card.get("archived"))
        declared_params = props.get("parameters") or []
        view: dict[str, Any] = {
            "name": card.get("name"),
            "description": card.get("description"),
            "collection_id": props.get("collection_id") if archived else card.get("collection_id"),
            "database_id": as_int_id(database if database is not None else card.get("database_id")),
            "display": card.get("display"),
            "visualization_settings": card.get("visualization_settings") or {},
            "type": card.get("type") or "question",
            # Metabase derives card parameters from template tags: compare only declared ones
            "parameters": project(card.get("parameters") or [], declared_params)
            if declared_params
            else [],
            "archived": archived,
        }
        if props.get("mbql"):
            view["mbql"] = project(query.get("query") or {}, props["mbql"])
            view["sql"], view["template_tags"] = props.get("sql"), props.get("template_tags")
        else:
            view["mbql"] = None
            view["sql"] = sql
            view["template_tags"] = comparable_tags(tags, props.get("template_tags") or {})
        return view

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            card = self.client(props).get(f"card/{id_}")
        except MetabaseNotFound:
            return ReadResult(id_="", outs={})
        outs = {**props, **self._live_view(card, props), "card_id": int(card["id"])}
        outs["entity_id"] = card.get("entity_id") or props.get("entity_id")
        return ReadResult(id_=str(card["id"]), outs=outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.client(props).delete(f"card/{id_}")


@dataclass
class CardArgs:
    name: pulumi.Input[str]
    database_id: pulumi.Input[int]
    sql: pulumi.Input[str] | None = None
    collection_id: pulumi.Input[int] | None = None
    display: pulumi.Input[str] = "table"
    visualization_settings: pulumi.Input[Mapping[str, Any]] = field(default_factory=dict)
    template_tags: pulumi.Input[Mapping[str, Any]] = field(default_factory=dict)
    description: pulumi.Input[str] | None = None
    type: pulumi.Input[str] = "question"
    parameters: pulumi.Input[list[Any]] = field(default_factory=list)
    mbql: pulumi.Input[Mapping[str, Any]] | None = None
    entity_id: str | None = None
    connection: MetabaseConnection | None = None


class Card(Resource, module="metabase", name="Card"):
    """A saved question. ``card_id`` is what dashcards reference."""

    card_id: pulumi.Output[int]
    entity_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: CardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        entity_id = args.entity_id or derive_entity_id(
            "card", pulumi.get_project(), pulumi.get_stack(), name
        )
        props = {
            "connection": connection_input(args.connection),
            "name": args.name,
            "description": args.description,
            "collection_id": args.collection_id,
            "database_id": args.database_id,
            "sql": args.sql,
            "mbql": args.mbql,
            "template_tags": args.template_tags,
            "display": args.display,
            "visualization_settings": args.visualization_settings,
            "type": args.type,
            "parameters": args.parameters,
            "entity_id": entity_id,
            "card_id": None,
        }
        provider = CardProvider()
        super().__init__(provider, name, props, secret_opts(opts, provider.secret_outputs))
