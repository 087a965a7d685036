"""Dashboard with tabs and dashcards, written as one ``PUT`` that keeps existing ids.

Declared shape (all plain data, easy to build from ``dashboards/`` definitions)::

    tabs=[{"key": "summary", "name": "Summary"}, ...]               # order = position
    dashcards=[{"card_id": 12, "tab": "summary", "row": 0, "col": 0, "size_x": 4, "size_y": 3,
                "parameter_mappings": [...], "visualization_settings": {...}, "series": [13]},
               {"card_id": None, "tab": "summary", "row": 3, "col": 0, "size_x": 24, "size_y": 2,
                "visualization_settings": {"virtual_card": {"display": "text"}, "text": "..."}}]

What the 0.56 server allows, and how the provider stays within it (api/dashboard.clj):
``POST /api/dashboard`` ignores ``width`` (set with the first ``PUT``); a ``PUT`` carrying
``dashcards`` on an archived dashboard answers 404 even with ``archived: false`` in the same body
(un-archive in its own ``PUT`` first); and while a dashboard has tabs every dashcard sent must
name one, so removing every tab and keeping cards in one ``PUT`` answers 400 (empty the dashboard
of tabs and cards in one ``PUT``, then lay the cards out untabbed; their ids change once).

Each dashcard has an identity (``key`` if given, else tab + card id, or tab + position for text
cards). Outputs map identities to Metabase ids (``dashcard_ids``, ``tab_ids``) and an update sends
those ids back, so Metabase updates dashcards in place instead of deleting and recreating them.
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
    adopt_by_id,
    as_int_id,
    check_type,
    connection_input,
    is_unknown,
    require_fields,
    secret_opts,
)
from .client import MetabaseClient, MetabaseNotFound
from .normalize import project, sort_dashcards, strip_none

GRID_COLUMNS = 24
LAYOUT_KEYS = ("row", "col", "size_x", "size_y")


def dashcard_keys(dashcards: Sequence[Mapping[str, Any]]) -> list[str]:
    """Identity of each declared dashcard (explicit ``key``, else derived; repeats numbered)."""
    keys, seen = [], {}
    for dc in dashcards:
        if dc.get("key"):
            base = str(dc["key"])
        elif dc.get("card_id") is not None:
            base = f"{dc.get('tab') or ''}|card:{as_int_id(dc['card_id'])}"
        else:
            base = f"{dc.get('tab') or ''}|text@{dc.get('row')},{dc.get('col')}"
        n = seen.get(base, 0)
        seen[base] = n + 1
        keys.append(base if n == 0 else f"{base}#{n}")
    return keys


def _dc_shape(dc: Mapping[str, Any]) -> dict[str, Any]:
    """A dashcard in comparable form (no identity key, ints, defaults filled)."""
    return strip_none(
        {
            "card_id": as_int_id(dc.get("card_id")),
            "tab": dc.get("tab"),
            **{k: as_int_id(dc.get(k)) for k in LAYOUT_KEYS},
            "parameter_mappings": list(dc.get("parameter_mappings") or []),
            "visualization_settings": dict(dc.get("visualization_settings") or {}),
            "series": [as_int_id(s) for s in dc.get("series") or []],
        }
    )


class DashboardProvider(MetabaseProvider):
    managed = (
        "name",
        "description",
        "collection_id",
        "collection_position",
        "parameters",
        "width",
        "tabs",
        "dashcards",
        "archived",
    )

    def defaults(self) -> dict[str, Any]:
        return {"parameters": [], "tabs": [], "dashcards": [], "archived": False}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        news = dict(news)
        news["collection_id"] = as_int_id(news.get("collection_id"))
        if isinstance(news.get("description"), str) and not news["description"].strip():
            news["description"] = None
        return super().check(olds, news)

    def validate(self, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = require_fields(news, ("name",), "Dashboard")
        failures += check_type(news, "tabs", list, "Dashboard", "a list of {key, name}")
        failures += check_type(news, "dashcards", list, "Dashboard", "a list of dashcards")
        failures += check_type(news, "parameters", list, "Dashboard", "a list")
        width = news.get("width")
        if width is not None and not is_unknown(width) and width not in ("fixed", "full"):
            failures.append(("width", "Dashboard.width must be 'fixed' or 'full'"))
        if failures:
            return failures
        tabs = news.get("tabs") or []
        tab_keys: list[str] = []
        for i, tab in enumerate(tabs):
            if not isinstance(tab, dict) or not tab.get("key") or not tab.get("name"):
                failures.append((f"tabs[{i}]", f"Dashboard.tabs[{i}] needs a key and a name"))
                continue
            if tab["key"] in tab_keys:
                failures.append(
                    (f"tabs[{i}].key", f"Dashboard.tabs[{i}].key {tab['key']!r} repeats")
                )
            tab_keys.append(tab["key"])
        dashcards = news.get("dashcards") or []
        if not is_unknown(dashcards):
            failures += self._validate_dashcards(dashcards, tab_keys)
        return failures

    @staticmethod
    def _validate_dashcards(
        dashcards: Sequence[Any], tab_keys: Sequence[str]
    ) -> list[tuple[str, str]]:
        failures: list[tuple[str, str]] = []
        places: dict[tuple[Any, Any, Any], int] = {}
        for i, dc in enumerate(dashcards):
            where = f"dashcards[{i}]"
            if not isinstance(dc, dict):
                failures.append((where, f"Dashboard.{where} must be a mapping"))
                continue
            if is_unknown(dc):
                continue
            for key in LAYOUT_KEYS:
                value = dc.get(key)
                minimum = 1 if key.startswith("size") else 0
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or value < minimum
                ):
                    failures.append(
                        (
                            f"{where}.{key}",
                            f"Dashboard.{where}.{key} must be an integer >= {minimum}",
                        )
                    )
            if not failures and dc["col"] + dc["size_x"] > GRID_COLUMNS:
                failures.append(
                    (
                        f"{where}.col",
                        f"Dashboard.{where} is wider than the {GRID_COLUMNS}-column grid",
                    )
                )
            tab = dc.get("tab")
            if tab_keys and tab not in tab_keys:
                failures.append(
                    (
                        f"{where}.tab",
                        f"Dashboard.{where}.tab {tab!r} is not a tab key {list(tab_keys)}",
                    )
                )
            if not tab_keys and tab is not None:
                failures.append(
                    (
                        f"{where}.tab",
                        f"Dashboard.{where}.tab is set but the dashboard declares no tabs",
                    )
                )
            card_id = dc.get("card_id")
            if card_id is None:
                vs = dc.get("visualization_settings") or {}
                if not isinstance(vs, dict) or not vs.get("virtual_card"):
                    failures.append(
                        (
                            f"{where}.card_id",
                            f"Dashboard.{where} needs a card_id "
                            "(or visualization_settings.virtual_card for text)",
                        )
                    )
            elif not is_unknown(card_id) and not isinstance(as_int_id(card_id), int):
                failures.append(
                    (f"{where}.card_id", f"Dashboard.{where}.card_id must be an integer id")
                )
            place = (tab, dc.get("row"), dc.get("col"))
            if place in places:
                failures.append(
                    (
                        f"{where}.row",
                        f"Dashboard.{where} has the tab/row/col of dashcards[{places[place]}]",
                    )
                )
            places[place] = i
        keys = dashcard_keys([dc for dc in dashcards if isinstance(dc, dict)])
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            failures.append(("dashcards", f"Dashboard.dashcards identities repeat: {dupes}"))
        return failures

    # ------------------------------------------------------------------ diff helpers
    def comparable(self, key: str, value: Any, props: Mapping[str, Any]) -> Any:
        if key == "dashcards":
            order = {t.get("key"): i for i, t in enumerate(props.get("tabs") or [])}
            shaped = [_dc_shape(dc) for dc in value or []]
            return sort_dashcards(shaped, order)
        if key == "tabs":
            return [{"key": t.get("key"), "name": t.get("name")} for t in value or []]
        if key == "collection_id":
            return as_int_id(value)
        if key == "collection_position":
            return as_int_id(value)
        if key == "description":
            return value or None
        if key == "archived":
            return bool(value)
        if key == "parameters":
            return strip_none(value or [])
        return value

    # ------------------------------------------------------------------ payloads
    def _scalars(self, props: Mapping[str, Any]) -> dict[str, Any]:
        body = {
            "name": props["name"],
            "description": props.get("description"),
            "collection_id": as_int_id(props.get("collection_id")),
            "collection_position": as_int_id(props.get("collection_position")),
            "parameters": list(props.get("parameters") or []),
        }
        if props.get("width"):
            body["width"] = props["width"]
        return body

    def _create_body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """What ``POST /api/dashboard`` reads (``width`` would be ignored: it goes in a PUT)."""
        return {k: v for k, v in self._scalars(props).items() if k != "width"}

    def _layout(
        self, props: Mapping[str, Any], known_tabs: Mapping[str, int], known_dcs: Mapping[str, int]
    ) -> dict[str, Any]:
        """``{"tabs", "dashcards"}`` for one PUT: known ids reused, new ones negative."""
        tab_ids: dict[str, int] = {}
        tabs = []
        for i, tab in enumerate(props.get("tabs") or []):
            tab_id = known_tabs.get(tab["key"], -(i + 1))
            tab_ids[tab["key"]] = tab_id
            tabs.append({"id": tab_id, "name": tab["name"]})
        dashcards = []
        decl = list(props.get("dashcards") or [])
        for j, (dc, key) in enumerate(zip(decl, dashcard_keys(decl), strict=True)):
            shaped = _dc_shape(dc)
            dashcards.append(
                {
                    "id": known_dcs.get(key, -(j + 1)),
                    "card_id": shaped.get("card_id"),
                    "dashboard_tab_id": tab_ids.get(dc["tab"]) if dc.get("tab") else None,
                    **{k: shaped[k] for k in LAYOUT_KEYS},
                    "parameter_mappings": shaped["parameter_mappings"],
                    "visualization_settings": shaped["visualization_settings"],
                    "series": [{"id": s} for s in shaped["series"]],
                }
            )
        return {"tabs": tabs, "dashcards": dashcards}

    @staticmethod
    def _live_ids(
        live: Mapping[str, Any], olds: Mapping[str, Any]
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Old identity→id maps restricted to ids that still exist on the live dashboard."""
        live_tabs = {int(t["id"]) for t in live.get("tabs") or []}
        live_dcs = {int(d["id"]) for d in live.get("dashcards") or []}
        tabs = {k: int(v) for k, v in (olds.get("tab_ids") or {}).items() if int(v) in live_tabs}
        dcs = {k: int(v) for k, v in (olds.get("dashcard_ids") or {}).items() if int(v) in live_dcs}
        return tabs, dcs

    @staticmethod
    def _ids_from(
        props: Mapping[str, Any], sent: Mapping[str, Any], live: Mapping[str, Any]
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Map declared identities to the ids Metabase gave (tabs by position, cards by place)."""
        live_tabs = sorted(live.get("tabs") or [], key=lambda t: t.get("position", 0))
        tab_ids = {
            tab["key"]: int(lt["id"])
            for tab, lt in zip(props.get("tabs") or [], live_tabs, strict=False)
        }
        by_place = {
            (d.get("dashboard_tab_id"), int(d["row"]), int(d["col"])): int(d["id"])
            for d in live.get("dashcards") or []
        }
        dc_ids = {}
        decl = list(props.get("dashcards") or [])
        for dc, key, sent_dc in zip(decl, dashcard_keys(decl), sent["dashcards"], strict=True):
            if sent_dc["id"] > 0:
                dc_ids[key] = sent_dc["id"]
                continue
            tab_id = tab_ids.get(dc["tab"]) if dc.get("tab") else None
            found = by_place.get((tab_id, int(dc["row"]), int(dc["col"])))
            if found is not None:
                dc_ids[key] = found
        return tab_ids, dc_ids

    def _outs(
        self,
        props: Mapping[str, Any],
        dash_id: int,
        tab_ids: Mapping[str, int],
        dc_ids: Mapping[str, int],
    ) -> dict[str, Any]:
        return {
            **props,
            "archived": False,
            "dashboard_id": dash_id,
            "tab_ids": dict(tab_ids),
            "dashcard_ids": dict(dc_ids),
        }

    def _put_layout(
        self,
        client: MetabaseClient,
        dash_id: int,
        props: Mapping[str, Any],
        live: Mapping[str, Any],
        olds: Mapping[str, Any],
        scalars: bool,
    ) -> tuple[dict[str, int], dict[str, int]]:
        if live.get("archived"):
            client.put(f"dashboard/{dash_id}", {"archived": False})
        if live.get("tabs") and not props.get("tabs") and props.get("dashcards"):
            client.put(f"dashboard/{dash_id}", {"tabs": [], "dashcards": []})
            live = {"tabs": [], "dashcards": []}
        known_tabs, known_dcs = self._live_ids(live, olds)
        body = self._layout(props, known_tabs, known_dcs)
        payload = {**(self._scalars(props) if scalars else {}), **body}
        if scalars:
            payload["archived"] = False
        elif props.get("width"):
            payload["width"] = props["width"]
        resp = client.put(f"dashboard/{dash_id}", payload)
        if not isinstance(resp, dict) or "dashcards" not in resp or "tabs" not in resp:
            resp = client.get(f"dashboard/{dash_id}")
        return self._ids_from(props, body, resp)

    # ------------------------------------------------------------------ CRUD
    def _find(self, client: MetabaseClient, props: Mapping[str, Any]) -> dict[str, Any] | None:
        coll = as_int_id(props.get("collection_id"))
        items = client.list_data(f"collection/{coll if coll else 'root'}/items", models="dashboard")
        for item in items:
            if item.get("model", "dashboard") == "dashboard" and item.get("name") == props["name"]:
                if not item.get("archived"):
                    return {"id": item["id"]}
        return None

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self.client(props)
        found = adopt_by_id(client, "dashboard", props) or self._find(client, props)
        if found is not None:
            live = client.get(f"dashboard/{found['id']}")
            tab_ids, dc_ids = self._put_layout(
                client, int(found["id"]), props, live, {}, scalars=True
            )
            return CreateResult(
                id_=str(found["id"]), outs=self._outs(props, int(found["id"]), tab_ids, dc_ids)
            )
        dash = client.create_adopting(
            lambda: client.post("dashboard", self._create_body(props)),
            lambda: self._find(client, props),
            f"dashboard {props['name']!r}",
        )
        dash_id = int(dash["id"])
        tab_ids: dict[str, int] = {}
        dc_ids: dict[str, int] = {}
        if props.get("tabs") or props.get("dashcards"):
            empty = {"tabs": [], "dashcards": []}  # a new dashboard has neither
            tab_ids, dc_ids = self._put_layout(client, dash_id, props, empty, {}, scalars=False)
        elif props.get("width"):
            client.put(f"dashboard/{dash_id}", {"width": props["width"]})
        return CreateResult(id_=str(dash_id), outs=self._outs(props, dash_id, tab_ids, dc_ids))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = self.client(news)
        dash_id = int(id_)
        layout_changed = any(
            self.comparable(k, olds.get(k), olds) != self.comparable(k, news.get(k), news)
            for k in ("tabs", "dashcards")
        )
        if layout_changed:
            live = client.get(f"dashboard/{dash_id}")
            tab_ids, dc_ids = self._put_layout(client, dash_id, news, live, olds, scalars=True)
        else:
            client.put(f"dashboard/{dash_id}", {**self._scalars(news), "archived": False})
            tab_ids, dc_ids = olds.get("tab_ids") or {}, olds.get("dashcard_ids") or {}
        return UpdateResult(outs=self._outs(news, dash_id, tab_ids, dc_ids))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            dash = self.client(props).get(f"dashboard/{id_}")
        except MetabaseNotFound:
            return ReadResult(id_="", outs={})
        return ReadResult(id_=str(dash["id"]), outs=self._live_view(dash, props))

    def _live_view(self, dash: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
        key_of_tab = {int(v): k for k, v in (props.get("tab_ids") or {}).items()}
        live_tabs = sorted(dash.get("tabs") or [], key=lambda t: t.get("position", 0))
        tabs = [
            {"key": key_of_tab.get(int(t["id"]), f"tab-{t['id']}"), "name": t.get("name")}
            for t in live_tabs
        ]
        tab_key = {int(t["id"]): tab["key"] for t, tab in zip(live_tabs, tabs, strict=True)}
        key_of_dc = {int(v): k for k, v in (props.get("dashcard_ids") or {}).items()}
        decl = list(props.get("dashcards") or [])
        declared_by_key = dict(zip(dashcard_keys(decl), decl, strict=True))
        dashcards = []
        for d in dash.get("dashcards") or []:
            ident = key_of_dc.get(int(d["id"]))
            declared = declared_by_key.get(ident) if ident else None
            mappings = d.get("parameter_mappings") or []
            if declared is not None and declared.get("parameter_mappings"):
                mappings = project(mappings, declared["parameter_mappings"])
            entry = {
                "card_id": d.get("card_id"),
                "tab": tab_key.get(d.get("dashboard_tab_id"))
                if d.get("dashboard_tab_id")
                else None,
                **{k: d.get(k) for k in LAYOUT_KEYS},
                "parameter_mappings": mappings,
                "visualization_settings": d.get("visualization_settings") or {},
                "series": [
                    s.get("id") if isinstance(s, dict) else s for s in d.get("series") or []
                ],
            }
            if declared is not None and declared.get("key"):
                entry["key"] = declared["key"]
            dashcards.append(entry)
        order = {t["key"]: i for i, t in enumerate(tabs)}
        archived = bool(dash.get("archived"))
        params = dash.get("parameters") or []
        declared_params = props.get("parameters") or []
        if len(params) == len(declared_params):
            params = project(params, declared_params)
        return {
            **props,
            "name": dash.get("name"),
            "description": dash.get("description"),
            "collection_id": as_int_id(props.get("collection_id"))
            if archived
            else dash.get("collection_id"),
            "collection_position": dash.get("collection_position"),
            "parameters": params,
            "width": dash.get("width") if props.get("width") else props.get("width"),
            "tabs": tabs,
            "dashcards": sort_dashcards(dashcards, order),
            "archived": archived,
            "dashboard_id": int(dash["id"]),
            "tab_ids": {tab["key"]: int(t["id"]) for t, tab in zip(live_tabs, tabs, strict=True)},
            "dashcard_ids": {
                key_of_dc.get(int(d["id"]), f"live:{d['id']}"): int(d["id"])
                for d in dash.get("dashcards") or []
            },
        }

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.client(props).delete(f"dashboard/{id_}")


@dataclass
class DashboardArgs:
    name: pulumi.Input[str]
    collection_id: pulumi.Input[int] | None = None
    description: pulumi.Input[str] | None = None
    collection_position: pulumi.Input[int] | None = None
    parameters: pulumi.Input[list[Any]] = field(default_factory=list)
    tabs: pulumi.Input[list[Mapping[str, Any]]] = field(default_factory=list)
    dashcards: pulumi.Input[list[Mapping[str, Any]]] = field(default_factory=list)
    width: pulumi.Input[str] | None = None
    connection: MetabaseConnection | None = None
    #: an existing object to take over on create (stack config metabaseAdopt); not diffed
    adopt_id: int | None = None


class Dashboard(Resource, module="metabase", name="Dashboard"):
    """A dashboard; ``tab_ids``/``dashcard_ids`` map declared identities to Metabase ids."""

    dashboard_id: pulumi.Output[int]
    tab_ids: pulumi.Output[dict[str, int]]
    dashcard_ids: pulumi.Output[dict[str, int]]

    def __init__(
        self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "connection": connection_input(args.connection),
            "name": args.name,
            "description": args.description,
            "collection_id": args.collection_id,
            "collection_position": args.collection_position,
            "parameters": args.parameters,
            "width": args.width,
            "tabs": args.tabs,
            "dashcards": args.dashcards,
            "dashboard_id": None,
            "tab_ids": None,
            "dashcard_ids": None,
        }
        if args.adopt_id:
            props["adopt_id"] = args.adopt_id
        provider = DashboardProvider()
        super().__init__(provider, name, props, secret_opts(opts, provider.secret_outputs))
