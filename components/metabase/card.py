"""Card: a saved question (native SQL, or MBQL) with display and visualization settings.

Idempotent create: ``POST /api/card`` ignores a client-chosen ``entity_id`` (``create-card!`` in
Metabase's models/card.clj assigns its own NanoID), so it is no idempotency key. A card is
identified by its name within its collection: create first looks for a non-archived card of that
name in the collection (``GET /api/collection/{id|root}/items?models=card``) and adopts it, and
after a transient failure looks again before re-posting. A ``POST`` whose response was lost, or an
``up`` that died after it, therefore never leaves a duplicate. The content definitions keep card
names unique within a collection (``components.metabase_content.definitions``).

Field filters by name: a ``dimension`` template tag is declared as
``{"type": "dimension", "field": [schema, table, column], "widget-type": ...}``. Metabase stores
``"dimension": ["field", <field id>, null]``, and field ids exist only once the database has
synced (and change when a table is dropped and re-synced), so ids never enter inputs or state:
create/update look the column up in ``GET /api/database/:id/metadata`` (every table with its
fields: metabase/metabase ``src/metabase/warehouses/api.clj``, ``GET /:id/metadata``) and send the
id; read maps the live id back to ``field`` so diffs compare names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
from .client import MetabaseClient, MetabaseNotFound
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
#: the collection-items ``model`` of each card type (questions are "card", models "dataset")
ITEM_MODELS = {"question": "card", "model": "dataset", "metric": "metric"}


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
        # entity_id is an output (Metabase assigns it); inputs from older states may carry one
        news.pop("entity_id", None)
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
            field_ref = tag.get("field")
            if tag.get("type") == "dimension" and not (tag.get("dimension") or field_ref):
                need = "it needs field: [schema, table, column]"
                failures.append((where, f"Card.{where} is a field filter: {need}"))
            if field_ref is not None and not is_unknown(field_ref) and not _is_field_ref(field_ref):
                got = f"got {field_ref!r}"
                failures.append(
                    (where, f"Card.{where}.field must be [schema, table, column], {got}")
                )
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
    def _body(self, client: MetabaseClient, props: Mapping[str, Any]) -> dict[str, Any]:
        db = as_int_id(props["database_id"])
        if props.get("mbql"):
            query = {"database": db, "type": "query", "query": props["mbql"]}
        else:
            tags = resolve_field_tags(client, db, props.get("template_tags") or {}, props)
            query = native_dataset_query(db, props["sql"], tags)
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

    def _find(self, client: MetabaseClient, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The non-archived card named ``props['name']`` in the card's collection, if any."""
        coll = as_int_id(props.get("collection_id"))
        model = ITEM_MODELS.get(props.get("type") or "question", "card")
        items = client.list_data(f"collection/{coll if coll else 'root'}/items", models=model)
        for item in items:
            if (
                item.get("model", model) == model
                and item.get("name") == props["name"]
                and not item.get("archived")
            ):
                card = client.get_or_none(f"card/{item['id']}")
                if isinstance(card, dict):
                    return card
        return None

    def _outs(self, props: Mapping[str, Any], card: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **props,
            "archived": False,
            "card_id": int(card["id"]),
            "entity_id": card.get("entity_id"),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self.client(props)
        body = self._body(client, props)
        # named in metabaseAdopt, or made by an earlier run that died before recording it?
        card = adopt_by_id(client, "card", props) or self._find(client, props)
        adopted = card is not None
        if card is None:
            found: list[bool] = []

            def find() -> dict[str, Any] | None:
                hit = self._find(client, props)
                found.append(hit is not None)
                return hit

            card = client.create_adopting(
                lambda: client.post("card", body), find, f"card {props['name']!r}"
            )
            adopted = any(found)
        if card.get("archived") or (adopted and self._drifted(client, card, props)):
            card = client.put(f"card/{card['id']}", {**body, "archived": False})
        return CreateResult(id_=str(card["id"]), outs=self._outs(props, card))

    def _drifted(
        self, client: MetabaseClient, card: Mapping[str, Any], props: Mapping[str, Any]
    ) -> bool:
        live = self._live_view(client, card, props)
        return any(
            self.comparable(k, live.get(k), live) != self.comparable(k, props.get(k), props)
            for k in self.managed
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = self.client(news)
        card = client.put(f"card/{id_}", {**self._body(client, news), "archived": False})
        outs = self._outs(news, card or {"id": id_})
        outs["entity_id"] = outs["entity_id"] or olds.get("entity_id")
        return UpdateResult(outs=outs)

    def _live_view(
        self, client: MetabaseClient, card: Mapping[str, Any], props: Mapping[str, Any]
    ) -> dict[str, Any]:
        query = card.get("dataset_query") or {}
        database, sql, tags = native_query_of(query)
        tags = named_field_tags(client, as_int_id(database), tags)
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
        client = self.client(props)
        try:
            card = client.get(f"card/{id_}")
        except MetabaseNotFound:
            return ReadResult(id_="", outs={})
        outs = {**props, **self._live_view(client, card, props), "card_id": int(card["id"])}
        outs["entity_id"] = card.get("entity_id")
        return ReadResult(id_=str(card["id"]), outs=outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.client(props).delete(f"card/{id_}")


def _is_field_ref(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) == 3
        and all(isinstance(v, str) and v for v in value)
    )


def _field_index(client: MetabaseClient, database_id: int) -> dict[tuple[str, str, str], int]:
    """``(schema, table, column) -> field id`` of a synced database (one request)."""
    meta = client.get(f"database/{database_id}/metadata") or {}
    index: dict[tuple[str, str, str], int] = {}
    for table in meta.get("tables") or []:
        for fld in table.get("fields") or []:
            key = (str(table.get("schema") or ""), str(table.get("name")), str(fld.get("name")))
            index[key] = int(fld["id"])
    return index


def resolve_field_tags(
    client: MetabaseClient, database_id: int, tags: Mapping[str, Any], props: Mapping[str, Any]
) -> dict[str, Any]:
    """Template tags with each by-name ``field`` replaced by Metabase's ``dimension``.

    Raises ``ValueError`` naming the card, table and column when the synced database lacks it."""
    if not any(isinstance(t, Mapping) and t.get("field") for t in tags.values()):
        return dict(tags)
    index = _field_index(client, database_id)
    out: dict[str, Any] = {}
    for name, tag in tags.items():
        ref = tag.get("field") if isinstance(tag, Mapping) else None
        if not ref:
            out[name] = tag
            continue
        schema, table, column = (str(x) for x in ref)
        field_id = index.get((schema, table, column))
        if field_id is None:
            tables = {(s, t) for s, t, _c in index}
            if (schema, table) not in tables:
                problem = f"table {schema}.{table} is not in Metabase database {database_id}"
            else:
                columns = sorted(c for s, t, c in index if (s, t) == (schema, table))
                problem = (
                    f"column {column!r} is not a field of table {schema}.{table} in Metabase "
                    f"database {database_id} (fields: {', '.join(columns)})"
                )
            raise ValueError(
                f"Card {props.get('name')!r}: field filter {{{{{name}}}}}: {problem}. Fix the "
                f"column in dashboards/content/parameters.yaml, or build/sync the table first "
                f"(mfb-infra metabase sync)"
            )
        resolved = {k: v for k, v in tag.items() if k != "field"}
        resolved["dimension"] = ["field", field_id, None]
        out[name] = resolved
    return out


def named_field_tags(
    client: MetabaseClient, database_id: int | None, tags: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Live template tags with each field filter's ``dimension`` id mapped back to ``field``
    (``[schema, table, column]``); an id the database no longer has maps to no ``field``."""
    ids = {
        name: tag["dimension"][1]
        for name, tag in tags.items()
        if tag.get("type") == "dimension"
        and isinstance(tag.get("dimension"), list)
        and len(tag["dimension"]) >= 2
        and tag["dimension"][0] == "field"
        and isinstance(tag["dimension"][1], int)
    }
    if not ids or database_id is None:
        return dict(tags)
    by_id = {fid: list(key) for key, fid in _field_index(client, database_id).items()}
    out = {name: dict(tag) for name, tag in tags.items()}
    for name, fid in ids.items():
        out[name]["field"] = by_id.get(fid)
    return out


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
    connection: MetabaseConnection | None = None
    #: an existing card to take over on create (stack config metabaseAdopt); not diffed
    adopt_id: int | None = None


class Card(Resource, module="metabase", name="Card"):
    """A saved question. ``card_id`` is what dashcards reference."""

    card_id: pulumi.Output[int]
    entity_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: CardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
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
            "card_id": None,
            "entity_id": None,
        }
        if args.adopt_id:
            props["adopt_id"] = args.adopt_id
        provider = CardProvider()
        super().__init__(provider, name, props, secret_opts(opts, provider.secret_outputs))
