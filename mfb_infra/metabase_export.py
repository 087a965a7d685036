"""``mfb-infra metabase export``: one live Metabase dashboard written as our content definitions.

Design a dashboard in Metabase, export it, commit the result::

    mfb-infra metabase export --url https://metabase.example.org --email admin@example.org \
        --password-env METABASE_ADMIN_PASSWORD \
        (--dashboard 42 | --name "Texas Dashboard" --collection "Texas") \
        --out exported/ [--force] [--key main] [--scope tenant --stack production --tenant tx]

writes, under ``--out``, the same layout as ``dashboards/``:

- ``content/dashboards/<key>.yaml``: the dashboard (name, description, collection key, filters,
  tabs; each tab's layout as rows of items with explicit ``width``/``height``/``col``, so the
  grid comes back cell for cell);
- ``content/cards.yaml``: its cards (name, description, display, engine, ``percent`` /
  ``currency`` / ``mini_bar`` where the column settings are exactly what those keys render, the
  rest of the visualization settings verbatim), to merge into ``dashboards/content/cards.yaml``;
- ``sql/<card>.sql``: each card's SQL with the stack's schema written back as ``analytics.``,
  rendered filter clauses written back as their slots (``[[AND {{date}}]]``, ...), a fixed window
  as ``window_days``, and on BigQuery the dataset as ``__BQ__.`` and the scope's state codes as
  ``__STATE_FILTER__``.

Rendering the exported files (``components.metabase_content.definitions.render``) gives back
the SQL, template tags, settings, tabs, layout and filter wiring Metabase holds, so an ``up``
of them adopts the live objects by name (the providers' create) and writes nothing.

Filters: every dashboard filter must already be declared in ``dashboards/content/parameters.yaml``
(by its id); cards are wired to each dashboard filter whose id is one of their template tags, as
the renderer wires them, and a live wiring that differs is an error naming the card. Field
filters (template tags of ``type: dimension``) are written in the declared form, by name: the SQL
keeps the bare slot (``[[AND {{partner}}]]``) and the tag itself is rendered from
``parameters.yaml`` (``tag_type: dimension`` + ``column``), so no Metabase field id reaches the
files; the export checks that each live tag is a field filter exactly where ``parameters.yaml``
declares one (which field a live tag points at is the Card provider's to map, not compared here).

Credentials come from the environment (``--password-env`` / ``--api-key-env`` name the
variables), never from the command line. Existing files are never overwritten without
``--force``; nothing is written unless the whole export succeeded.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.metabase.client import (
    Credentials,
    MetabaseClient,
    MetabaseConfigError,
    MetabaseError,
)
from components.metabase.normalize import native_query_of
from components.metabase_content.definitions import (
    GRID_COLUMNS,
    Definitions,
    ParameterDef,
    load_definitions,
)

PERCENT = {"number_style": "percent", "decimals": 0}
CURRENCY = {"number_style": "currency", "currency": "USD", "decimals": 0}
MINI_BAR = {"show_mini_bar": True}
COLUMN_KEY_RE = re.compile(r'^\["name","(.+)"\]$')
BLANK_BEFORE_RE = re.compile(r"\n(?:[ \t]*\n)+(?=[ \t]*(?:GROUP|ORDER|SELECT|FROM|\)))")
ENGINES = {"postgres": "postgres", "bigquery-cloud-sdk": "bigquery"}


class ExportError(Exception):
    """The dashboard cannot be exported as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Reverse:
    """What rendering put into the SQL for one scope, to write back as placeholders."""

    schema: str = "analytics"
    bq_dataset: str | None = None
    state_codes: tuple[str, ...] = ()


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return s if s and s[0].isalpha() else f"x_{s}" if s else "x"


# ------------------------------------------------------------------------------ SQL
def _clause(p: ParameterDef, table: str) -> str:
    """The optional clause ``render_sql`` writes for one parameter: a field filter (tag type
    ``dimension``, declared by name) is the bare tag, Metabase writing the predicate; a plain
    variable is compared to its column."""
    if getattr(p, "tag_type", None) == "dimension":
        return f"[[AND {{{{{p.id}}}}}]]"
    return f"[[AND {table}.{p.column} {p.operator} {{{{{p.id}}}}}]]"


def unrender_sql(
    sql: str, engine: str, params: Mapping[str, ParameterDef], filter_table: str, rev: Reverse
) -> tuple[str, int | None]:
    """(SQL with placeholders, window_days): the inverse of ``definitions.render_sql``."""
    window = None
    if engine == "postgres":
        table = f"{rev.schema}.{filter_table}"
        slots: dict[str, list[ParameterDef]] = {}
        for p in params.values():
            slots.setdefault(p.slot, []).append(p)
        for name, bound in slots.items():
            rendered = " ".join(_clause(p, table) for p in bound)
            sql = sql.replace(rendered, f"[[AND {{{{{name}}}}}]]")
        date = slots.get("date")
        column = date[0].column if date else "submission_date"
        fixed = re.compile(rf"AND {re.escape(table)}\.{re.escape(column)} > CURRENT_DATE - (\d+)")
        days = {int(d) for d in fixed.findall(sql)}
        if len(days) > 1:
            raise ExportError(f"the SQL has fixed windows of {sorted(days)} days; use one")
        if days:
            window = days.pop()
            sql = fixed.sub("[[AND {{date}}]]", sql)
        if rev.schema != "analytics":
            sql = re.sub(rf"\b{re.escape(rev.schema)}\.(mart_[a-z0-9_]+)\b", r"analytics.\1", sql)
    else:
        if rev.bq_dataset:
            sql = re.sub(rf"`{re.escape(rev.bq_dataset)}\.([A-Za-z0-9_]+)`", r"__BQ__.\1", sql)
    # rendering removes one blank line before GROUP/ORDER/SELECT/FROM/")" (where dropped clauses
    # leave one): add one there, so the blank lines Metabase holds come back
    sql = BLANK_BEFORE_RE.sub(lambda m: m.group(0) + "\n", sql)
    return sql, window


def _state_filter(sql: str, rev: Reverse) -> tuple[str, str | None]:
    """BigQuery: the scope's state predicates back as their placeholders — on the global scope
    ``(c IN (...) OR c IS NULL) AND NOT coalesce(is_cesn, FALSE)`` as
    ``__STATE_FILTER_NOT_CESN__``, ``(c IN (...) OR c IS NULL)`` as ``__STATE_FILTER_NULL__``,
    then ``c IN (...)`` as ``__STATE_FILTER__`` — and the GA epoch literal as ``__GA_EPOCH__``
    (the inverse of ``definitions.render_sql``)."""
    from components.metabase_content.definitions import GA_EPOCH

    sql = sql.replace(f"DATE '{GA_EPOCH}'", "__GA_EPOCH__")
    if not rev.state_codes:  # rendered as FALSE, which cannot be told from the query's own
        return sql, None
    codes = ", ".join("'" + c.replace("'", "''") + "'" for c in rev.state_codes)
    col = r"([a-z_][a-z0-9_]*)"
    listed = re.escape(codes)
    patterns = [
        (re.compile(rf"\(\({col} IN \({listed}\) OR \1 IS NULL\) AND NOT "
                    rf"coalesce\(is_cesn, FALSE\)\)"), "__STATE_FILTER_NOT_CESN__"),
        (re.compile(rf"\({col} IN \({listed}\) OR \1 IS NULL\)"), "__STATE_FILTER_NULL__"),
        (re.compile(rf"\b{col} IN \({listed}\)"), "__STATE_FILTER__"),
    ]  # fmt: skip
    written, columns = sql, set()
    for pattern, placeholder in patterns:
        columns |= set(pattern.findall(sql))
        sql = pattern.sub(placeholder, sql)
    if len(columns) != 1:  # none, or several columns: leave the SQL as written
        return written, None
    return sql, columns.pop()


# ------------------------------------------------------------------------------ cards
def split_viz(viz: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(visualization settings left verbatim, {percent|currency|mini_bar: columns})."""
    rest = dict(viz)
    short: dict[str, list[str]] = {"percent": [], "currency": [], "mini_bar": []}
    cols = dict(rest.pop("column_settings", None) or {})
    kept: dict[str, Any] = {}
    for key, value in cols.items():
        m = COLUMN_KEY_RE.match(key)
        remaining = dict(value or {})
        if m:
            col = m.group(1)
            for name, shape in (("percent", PERCENT), ("currency", CURRENCY)):
                if all(remaining.get(k) == v for k, v in shape.items()):
                    short[name].append(col)
                    for k in shape:
                        remaining.pop(k)
                    break
            if remaining.get("show_mini_bar") is True:
                short["mini_bar"].append(col)
                remaining.pop("show_mini_bar")
        if remaining or not m:
            kept[key] = remaining
    if kept:
        rest["column_settings"] = kept
    return rest, {k: v for k, v in short.items() if v}


def export_card(
    card: Mapping[str, Any],
    engine: str,
    defs: Definitions,
    rev: Reverse,
    where: str,
) -> tuple[dict[str, Any], str]:
    """(cards.yaml entry without its sql file name, SQL text)."""
    query = card.get("dataset_query") or {}
    _db, sql, tags = native_query_of(query)
    if not sql:
        raise ExportError(
            f"{where}: card {card.get('name')!r} (id {card.get('id')}) is not a native SQL "
            "question; only SQL cards can be declared (convert it to SQL in Metabase first)"
        )
    params = defs.parameter_by_id
    for name, tag in tags.items():
        if name not in params:
            raise ExportError(
                f"{where}: card {card.get('name')!r} uses {{{{{name}}}}}, which is not a "
                "parameter in dashboards/content/parameters.yaml: declare it there first"
            )
        # a field filter is declared by name (parameters.yaml: tag_type dimension, column), the
        # card's tag rendered from it: the live tag must be one, and a plain variable the other
        live_dim = tag.get("type") == "dimension"
        if live_dim != (getattr(params[name], "tag_type", None) == "dimension"):
            raise ExportError(
                f"{where}: card {card.get('name')!r}: {{{{{name}}}}} is a "
                f"{'field filter' if live_dim else 'plain variable'} in Metabase but "
                f"parameters.yaml declares tag_type {params[name].tag_type!r}: make them agree"
            )
    sql, window = unrender_sql(sql, engine, params, defs.parameters.filter_table, rev)
    state_column = None
    if engine == "bigquery":
        sql, state_column = _state_filter(sql, rev)
    viz, short = split_viz(card.get("visualization_settings") or {})
    entry: dict[str, Any] = {"name": card["name"]}
    if card.get("description"):
        entry["description"] = card["description"]
    entry["display"] = card.get("display") or "table"
    if engine != "postgres":
        entry["engine"] = engine
    if window:
        entry["window_days"] = window
    if state_column and state_column != "state_code":
        entry["state_column"] = state_column
    entry.update(short)
    if viz:
        entry["visualization_settings"] = viz
    text = sql.rstrip() + "\n"
    return entry, text


# ------------------------------------------------------------------------------ layout
def rows_of(dashcards: Sequence[Mapping[str, Any]], keys: Mapping[int, str], where: str) -> list:
    """Rows (tenant.yaml's layout) that lay out exactly these dashcards."""
    ordered = sorted(dashcards, key=lambda d: (d["row"], d["col"]))
    if not ordered:
        return []
    starts = sorted({int(d["row"]) for d in ordered})
    if starts[0] != 0:
        raise ExportError(
            f"{where}: the tab starts at row {starts[0]}, not 0: move its top cards up first"
        )
    rows = []
    for n, y in enumerate(starts):
        items = []
        for dc in (d for d in ordered if d["row"] == y):
            if int(dc["col"]) + int(dc["size_x"]) > GRID_COLUMNS:
                raise ExportError(f"{where}: a card at row {y} runs past the 24-column grid")
            if dc.get("card_id") is None:
                text = (dc.get("visualization_settings") or {}).get("text")
                if text is None:
                    raise ExportError(
                        f"{where}: a dashcard at row {y}, column {dc['col']} is neither a card "
                        "nor a text box (links, headings and iframes are not declared)"
                    )
                item: dict[str, Any] = {"text": text}
            else:
                item = {"card": keys[int(dc["card_id"])]}
            item.update(width=int(dc["size_x"]), height=int(dc["size_y"]), col=int(dc["col"]))
            items.append(item)
        height = (
            starts[n + 1] - y
            if n + 1 < len(starts)
            else max(i["height"] for i in items)
        )  # fmt: skip
        for item in items:
            if item["height"] == height:
                del item["height"]
        rows.append({"height": height, "items": items})
    return rows


# ------------------------------------------------------------------------------ dashboard
@dataclass(frozen=True)
class Exported:
    key: str
    dashboard: dict[str, Any]
    cards: dict[str, dict[str, Any]]
    sql: dict[str, str]  # file name -> text

    def files(self) -> dict[str, str]:
        dump = lambda v: yaml.safe_dump(v, sort_keys=False, allow_unicode=True, width=100)  # noqa: E731
        out = {
            f"content/dashboards/{self.key}.yaml": dump(self.dashboard),
            "content/cards.yaml": dump({"cards": self.cards}),
        }
        out.update({f"sql/{name}": text for name, text in self.sql.items()})
        return out


def find_dashboard(
    client: MetabaseClient, dashboard_id: int | None, name: str | None, collection: str | None
) -> dict[str, Any]:
    if dashboard_id is not None:
        dash = client.get_or_none(f"dashboard/{dashboard_id}")
        if not isinstance(dash, dict) or dash.get("archived"):
            raise ExportError(f"no dashboard with id {dashboard_id} (or it is archived)")
        return dash
    if not name or not collection:
        raise ExportError("name the dashboard: --dashboard ID, or --name and --collection")
    if collection == "root":
        coll_id: Any = "root"
    else:
        colls = [
            c for c in client.get("collection")
            if c.get("name") == collection and not c.get("archived")
        ]  # fmt: skip
        if len(colls) != 1:
            raise ExportError(
                f"{len(colls)} collections are named {collection!r}: pass --dashboard ID"
                if colls
                else f"no collection named {collection!r} (use 'root' for Our analytics)"
            )
        coll_id = colls[0]["id"]
    hits = [
        i for i in client.list_data(f"collection/{coll_id}/items", models="dashboard")
        if i.get("name") == name and not i.get("archived")
    ]  # fmt: skip
    if len(hits) != 1:
        raise ExportError(
            f"{len(hits)} dashboards named {name!r} in {collection!r}: pass --dashboard ID"
            if hits
            else f"no dashboard named {name!r} in collection {collection!r}"
        )
    return find_dashboard(client, int(hits[0]["id"]), None, None)


def export_dashboard(
    client: MetabaseClient,
    dash: Mapping[str, Any],
    *,
    defs: Definitions,
    key: str,
    scope: str = "global",
    collection_key: str = "main",
    card_prefix: str = "",
    overlay: str | None = None,
    title: str | None = None,
    rev: Reverse = Reverse(),
) -> Exported:
    where = f"dashboard {dash.get('name')!r} (id {dash.get('id')})"
    params = defs.parameter_by_id
    filters = [str(p.get("id")) for p in dash.get("parameters") or []]
    unknown = [f for f in filters if f not in params]
    if unknown:
        raise ExportError(
            f"{where}: filter(s) {unknown} are not declared in dashboards/content/parameters.yaml "
            "(by id): declare them there first"
        )
    dashcards = list(dash.get("dashcards") or [])
    card_ids = list(dict.fromkeys(int(d["card_id"]) for d in dashcards if d.get("card_id")))
    keys: dict[int, str] = {}
    cards: dict[str, dict[str, Any]] = {}
    sql: dict[str, str] = {}
    engines: dict[int, str] = {}
    for cid in card_ids:
        card = client.get(f"card/{cid}")
        db_id = native_query_of(card.get("dataset_query") or {})[0] or card.get("database_id")
        if db_id not in engines:
            engine = (client.get(f"database/{db_id}") or {}).get("engine")
            if engine not in ENGINES:
                raise ExportError(f"{where}: card {card.get('name')!r}: database engine {engine!r}")
            engines[db_id] = ENGINES[engine]
        key_ = f"{card_prefix}{slug(card['name'])}"
        base, n = key_, 2
        while key_ in cards:
            key_, n = f"{base}_{n}", n + 1
        entry, text = export_card(card, engines[db_id], defs, rev, where)
        sql[f"{key_}.sql"] = text
        cards[key_] = {**{"name": entry.pop("name")}, "sql": f"{key_}.sql", **entry}
        keys[cid] = key_
        tags = native_query_of(card.get("dataset_query") or {})[2]
        expected = sorted(f for f in filters if f in tags)
        for dc in (d for d in dashcards if d.get("card_id") == cid):
            wired = sorted(str(m.get("parameter_id")) for m in dc.get("parameter_mappings") or [])
            if wired != expected:
                raise ExportError(
                    f"{where}: card {card['name']!r} is wired to filters {wired}, but a declared "
                    f"card is wired to every dashboard filter among its variables ({expected}): "
                    "wire it so in Metabase, or edit the export by hand"
                )
    tabs_live = sorted(dash.get("tabs") or [], key=lambda t: t.get("position", 0))
    tabs = []
    if tabs_live:
        used: set[str] = set()
        for t in tabs_live:
            tkey = slug(t["name"])
            while tkey in used:
                tkey += "_"
            used.add(tkey)
            on_tab = [d for d in dashcards if d.get("dashboard_tab_id") == t["id"]]
            rows = rows_of(on_tab, keys, f"{where}: tab {t['name']!r}")
            if not rows:
                raise ExportError(f"{where}: tab {t['name']!r} is empty (remove it or add a card)")
            tabs.append({"key": tkey, "name": t["name"], "rows": rows})
    else:
        tabs.append({"key": "main", "name": "Main", "rows": rows_of(dashcards, keys, where)})

    def template(text: str | None) -> str | None:
        if text is None:
            return None
        text = text.replace("{", "{{").replace("}", "}}")
        return text.replace(title, "{title}") if title else text

    if (scope == "overlay") != (overlay is not None):
        raise ExportError("an overlay dashboard needs --overlay KEY (overlays.yaml), and only one")
    out: dict[str, Any] = {"key": key, "scope": scope}
    if overlay:
        out["overlay"] = overlay
    out["name"] = template(dash["name"])
    if dash.get("description"):
        out["description"] = template(dash["description"])
    out["collection"] = collection_key
    if dash.get("collection_position") is not None:
        out["collection_position"] = dash["collection_position"]
    if filters:
        out["parameters"] = filters
    out["tabs"] = tabs
    return Exported(key, out, cards, sql)


def write(exported: Exported, out: Path, force: bool) -> list[Path]:
    files = {out / rel: text for rel, text in exported.files().items()}
    clash = sorted(str(p) for p in files if p.exists())
    if clash and not force:
        raise ExportError(f"would overwrite {', '.join(clash)}: pass --force, or another --out")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return sorted(files)


def reverse_for_stack(stack: str, tenant: str | None) -> Reverse:
    from mfb_infra.sql import load_stack_config

    cfg = load_stack_config(stack)
    codes: tuple[str, ...]
    if tenant:
        match = [t for t in cfg.tenants if t.slug == tenant]
        if not match:
            raise ExportError(
                f"stack {stack!r} has no tenant {tenant!r} ({[t.slug for t in cfg.tenants]})"
            )
        codes = tuple(match[0].state_codes)
    else:
        # the global scope's codes as rendering puts them (tenants with `ga_in_global`)
        from components.metabase_content.definitions import GLOBAL, render_for_config

        plan = render_for_config(cfg, bigquery=True)
        codes = next(tuple(s.state_codes) for s in plan.scopes if s.key == GLOBAL)
    return Reverse(
        cfg.database.schema_name, f"{cfg.gcp.project}.{cfg.gcp.analytics_dataset}", codes
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mfb-infra metabase export", description=__doc__.split("\n")[0]
    )
    p.add_argument("--url", default=os.environ.get("METABASE_URL"), help="Metabase site root")
    p.add_argument("--email", default=os.environ.get("METABASE_ADMIN_EMAIL"))
    p.add_argument("--password-env", default="METABASE_ADMIN_PASSWORD")
    p.add_argument("--api-key-env", default=None, help="env var with an API key (instead)")
    p.add_argument("--dashboard", type=int, default=None, help="dashboard id")
    p.add_argument("--name", default=None, help="dashboard name (with --collection)")
    p.add_argument("--collection", default=None, help="its collection's name, or 'root'")
    p.add_argument("--out", required=True, type=Path, help="directory to write into")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--key", default=None, help="dashboard key (default: from its name)")
    p.add_argument("--scope", choices=["global", "tenant", "overlay"], default="global")
    p.add_argument("--collection-key", default="main", help="collection key in access.yaml")
    p.add_argument("--card-prefix", default="", help="prefix of the exported card keys")
    p.add_argument("--overlay", default=None, help="with --scope overlay: its overlays.yaml key")
    p.add_argument("--stack", default=None, help="write back this stack's schema/dataset")
    p.add_argument("--tenant", default=None, help="the tenant the dashboard belongs to")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    api_key = os.environ.get(args.api_key_env) if args.api_key_env else None
    password = os.environ.get(args.password_env) if not api_key else None
    if not args.url:
        print("error: --url (or METABASE_URL) is required", file=sys.stderr)
        return 2
    if not api_key and not (args.email and password):
        print(
            f"error: need --email and the password in ${args.password_env} (or --api-key-env)",
            file=sys.stderr,
        )
        return 2
    try:
        rev = reverse_for_stack(args.stack, args.tenant) if args.stack else Reverse()
        title = None
        if args.stack and args.tenant and args.scope == "tenant":
            from mfb_infra.sql import load_stack_config

            title = next(t.title for t in load_stack_config(args.stack).tenants
                         if t.slug == args.tenant)  # fmt: skip
        defs = load_definitions()
        client = MetabaseClient(Credentials(args.url, args.email, password, api_key))
        dash = find_dashboard(client, args.dashboard, args.name, args.collection)
        exported = export_dashboard(
            client, dash, defs=defs, key=args.key or slug(dash["name"]), scope=args.scope,
            collection_key=args.collection_key, card_prefix=args.card_prefix,
            overlay=args.overlay, title=title,
            rev=rev,
        )  # fmt: skip
        written = write(exported, args.out, args.force)
    except (ExportError, MetabaseConfigError, MetabaseError, ValueError) as exc:
        print(f"error: metabase export: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    print(
        f"exported {dash['name']!r}: {len(exported.cards)} card(s), "
        f"{len(exported.dashboard['tabs'])} tab(s); merge content/cards.yaml into "
        "dashboards/content/cards.yaml",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
