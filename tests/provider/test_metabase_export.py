"""``mfb-infra metabase export`` and adoption, end to end through Pulumi's real provider host.

A Metabase already holds production's content, made by someone else (the old Terraform
workspace, or a person in the UI): here one ``up`` from a state this test then throws away, and a
few objects changed behind its back. Then:

- dashboards exported from it (the CLI, over HTTP, login from the environment) and declared in
  place of the definitions that made them render to the same plan;
- a first ``up`` from an empty state with those declarations adopts every object (no duplicate,
  no new object), puts back only what was changed behind its back, and leaves every exported
  dashboard and card as it was; a second ``up`` writes nothing.
"""

from __future__ import annotations

import copy
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import double_only
from host import HostEngine, RunResult
from metabase_double import MetabaseDouble
from production import (
    ADMIN_PASSWORD,
    Content,
    duplicates,
    errors_of,
    operate,
    production_content,
    start_double,
    writes,
)

import components.metabase_content.definitions as definitions
from mfb_infra import metabase_export
from mfb_infra.cli import main as cli_main

pytestmark = double_only

REPO = Path(__file__).resolve().parents[2]
PREFIX = "exp_"
VARIABLE_NAMES = definitions.VARIABLE_RE
#: (definition file replaced, export arguments); the plan names each dashboard
EXPORTS = {
    "global.yaml": ("global", "main", ["--scope", "global", "--stack", "production"]),
    "cpal.yaml": (
        "cpal",
        "main",
        ["--scope", "overlay", "--overlay", "cpal", "--stack", "production", "--tenant", "tx"],
    ),
}


def content_view(double: MetabaseDouble) -> dict[str, Any]:
    """What a person sees in Metabase (no timestamps or revision counters)."""
    cards = {
        cid: {
            k: copy.deepcopy(c.get(k))
            for k in (
                "name",
                "description",
                "collection_id",
                "display",
                "dataset_query",
                "visualization_settings",
                "archived",
            )
        }
        for cid, c in double.cards.items()
    }
    dashes = {}
    for did, d in double.dashboards.items():
        tabs = {t["id"]: t["name"] for t in d.get("tabs") or []}
        dashes[did] = {
            "name": d.get("name"),
            "description": d.get("description"),
            "collection_id": d.get("collection_id"),
            "parameters": copy.deepcopy(d.get("parameters")),
            "tabs": [t["name"] for t in sorted(d.get("tabs") or [], key=lambda t: t["position"])],
            "dashcards": sorted(
                (
                    tabs.get(dc.get("dashboard_tab_id")),
                    dc["row"],
                    dc["col"],
                    dc["size_x"],
                    dc["size_y"],
                    dc.get("card_id"),
                    repr(
                        sorted(
                            (m.get("parameter_id"), repr(m.get("target")))
                            for m in dc.get("parameter_mappings") or []
                        )
                    ),
                    repr((dc.get("visualization_settings") or {}).get("text")),
                )
                for dc in d.get("dashcards") or []
            ),
        }
    return {"cards": cards, "dashboards": dashes}


def export(double: MetabaseDouble, out: Path, name: str, collection: str, args: list[str]) -> int:
    return cli_main(
        ["metabase", "export", "--url", double.url, "--email",
         production_content(bigquery=True).admin_email,
         "--password-env", "MFB_TEST_MB_PASSWORD", "--name", name, "--collection", collection,
         "--out", str(out), "--key", "main", "--card-prefix", PREFIX, *args]
    )  # fmt: skip


def declared_with(exports: dict[str, Path], tmp: Path) -> Path:
    """A copy of dashboards/ with each exported dashboard in place of its definition file and
    the exported cards merged into cards.yaml."""
    root = tmp / "dashboards"
    shutil.copytree(REPO / "dashboards" / "content", root / "content")
    shutil.copytree(REPO / "dashboards" / "sql", root / "sql")
    cards_path = root / "content" / "cards.yaml"
    cards = yaml.safe_load(cards_path.read_text())
    for fname, out in exports.items():
        (root / "content" / "dashboards" / fname).unlink()
        shutil.copy(out / "content/dashboards/main.yaml", root / "content/dashboards" / fname)
        exported = yaml.safe_load((out / "content/cards.yaml").read_text())["cards"]
        assert not set(exported) & set(cards["cards"])
        cards["cards"].update(exported)
        for sql in (out / "sql").iterdir():
            shutil.copy(sql, root / "sql" / sql.name)
    cards_path.write_text(yaml.safe_dump(cards, sort_keys=False))
    return root


@dataclass
class World:
    base: Content
    double: MetabaseDouble
    before: dict[str, Any]
    tampered: dict[str, int]
    exported: dict[str, Path]
    declared: Content
    adopt: RunResult
    adopt_writes: list[tuple[str, str]]
    again: RunResult
    again_writes: list[tuple[str, str]]


def _names(plan: Any, scope: str, key: str) -> tuple[str, str]:
    dash = next(d for d in plan.dashboards if d.scope == scope and d.key == key)
    coll = next(c for c in plan.collections if c.ref == dash.collection)
    return dash.name, coll.name


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    mp = pytest.MonkeyPatch()
    mp.setenv("MFB_TEST_MB_PASSWORD", ADMIN_PASSWORD)
    base = production_content(bigquery=True)
    double = start_double(base)
    content = base.for_url(double.url)
    try:
        made = operate(HostEngine(), content, lambda e: e.up(content.resources))
        assert made.ok, errors_of(made)
        # changed behind the state's back (as Terraform's content differs from ours): a card of
        # a dashboard that is not exported, and a collection's description
        plan = definitions.render_for_config(_stack(), bigquery=True)
        tx_card = next(c for c in double.cards.values() if c["name"] == "Completed Screeners"
                       and c["collection_id"] == _collection_id(double, plan, "tx"))  # fmt: skip
        tx_card["description"] = "made by terraform"
        before = content_view(double)
        exported = {}
        tmp = tmp_path_factory.mktemp("export")
        for fname, (scope, key, args) in EXPORTS.items():
            name, coll = _names(plan, scope, key)
            out = tmp / fname.removesuffix(".yaml")
            assert export(double, out, name, coll, args) == 0
            exported[fname] = out
        root = declared_with(exported, tmp)
        original = definitions.load_definitions
        mp.setattr(definitions, "load_definitions", lambda r=root: original(r))
        declared = production_content.__wrapped__(bigquery=True).for_url(double.url)
        engine = HostEngine()  # an empty state: nothing of what Metabase holds is Pulumi's yet
        double.reset_counts()
        adopt = operate(engine, declared, lambda e: e.up(declared.resources))
        adopt_writes = writes(double)
        double.reset_counts()
        again = operate(engine, declared, lambda e: e.up(declared.resources))
        yield World(
            base, double, before, {"tx_card": int(tx_card["id"])}, exported, declared, adopt,
            adopt_writes, again, writes(double),
        )  # fmt: skip
    finally:
        mp.undo()
        double.stop()


def _stack() -> Any:
    from mfb_infra.sql import load_stack_config

    return load_stack_config("production")


def _collection_id(double: MetabaseDouble, plan: Any, scope: str) -> int:
    name = next(c.name for c in plan.collections if c.scope == scope)
    return next(int(i) for i, c in double.collections.items() if c["name"] == name)


def test_first_up_adopts_every_object_without_duplicates(world: World) -> None:
    assert world.adopt.ok, errors_of(world.adopt)
    assert Counter(world.adopt.ops.values()) == {"create": len(world.declared.resources)}
    assert duplicates(world.double) == Counter()
    after = content_view(world.double)
    assert set(after["cards"]) == set(world.before["cards"])
    assert set(after["dashboards"]) == set(world.before["dashboards"])


def test_first_up_puts_back_what_changed_behind_its_back(world: World) -> None:
    card = world.double.cards[world.tampered["tx_card"]]
    assert card["description"] != "made by terraform"
    assert ("PUT", f"/api/card/{world.tampered['tx_card']}") in world.adopt_writes


def test_exported_dashboards_and_cards_are_unchanged_by_the_up(world: World) -> None:
    after = content_view(world.double)
    plan = definitions.render_for_config(_stack(), bigquery=True)
    checked = 0
    for scope, key, _args in EXPORTS.values():
        name, _coll = _names(plan, scope, key)
        did = next(i for i, d in world.double.dashboards.items() if d["name"] == name)
        assert after["dashboards"][did] == world.before["dashboards"][did]
        for dc in world.double.dashboards[did]["dashcards"]:
            if dc.get("card_id"):
                cid = dc["card_id"]
                assert after["cards"][cid] == world.before["cards"][cid], world.before["cards"][cid]
                assert ("PUT", f"/api/card/{cid}") not in world.adopt_writes
                checked += 1
    assert checked > 10


def test_second_up_writes_nothing(world: World) -> None:
    assert world.again.ok and set(world.again.ops.values()) == {"same"}
    assert world.again_writes == []


def test_export_refuses_to_overwrite_without_force(world: World, capsys) -> None:
    out = world.exported["global.yaml"]
    name, coll = _names(definitions.render_for_config(_stack(), bigquery=True), "global", "main")
    args = EXPORTS["global.yaml"][2]
    assert export(world.double, out, name, coll, args) == 1
    assert "pass --force" in capsys.readouterr().err
    assert export(world.double, out, name, coll, [*args, "--force"]) == 0


def test_export_names_a_missing_dashboard(world: World, tmp_path: Path, capsys) -> None:
    assert export(world.double, tmp_path, "No Such Dashboard", "Global", []) == 1
    assert "no dashboard named 'No Such Dashboard'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_tenant_export_renders_back_to_the_tenants_plan(world: World, tmp_path: Path) -> None:
    """NC (UTM filters, totals rows): its exported dashboard, declared as the tenant template and
    rendered for NC, is NC's plan again (same SQL, tags, settings, tabs, layout, wiring)."""
    cfg = _stack()
    plan = definitions.render_for_config(cfg, bigquery=True)
    name, coll = _names(plan, "nc", "main")
    out = tmp_path / "nc"
    args = ["--scope", "tenant", "--stack", "production", "--tenant", "nc"]
    assert export(world.double, out, name, coll, args) == 0
    root = declared_with({"tenant.yaml": out}, tmp_path)
    nc = [t for t in cfg.tenants if t.slug == "nc"]
    dataset = f"{cfg.gcp.project}.{cfg.gcp.analytics_dataset}"
    again, want = (
        definitions.render(definitions.load_definitions(r), nc, schema=cfg.database.schema_name,
                           bigquery=True, bq_dataset=dataset)
        for r in (root, definitions.DASHBOARDS_DIR)
    )  # fmt: skip

    def dash_view(p: Any) -> Any:
        d = next(x for x in p.dashboards if x.scope == "nc")
        cards = {c.ref: c for c in p.cards}
        return (
            d.name, d.description, d.collection_position, [n for _k, n in d.tabs],
            [(p_.id, p_.name, p_.type, cards[p_.values_card].name if p_.values_card else None,
              p_.values_column) for p_ in d.parameters],
            sorted((dict(d.tabs)[dc.tab], dc.row, dc.col, dc.size_x, dc.size_y,
                    cards[dc.card].name if dc.card else dc.text, dc.mappings)
                   for dc in d.dashcards),
        )  # fmt: skip

    def card_view(p: Any) -> dict[str, Any]:
        # the dashboard's cards and its filters' value cards (a saved card the dashboard does
        # not show, like "Completed Screens", is not part of a dashboard export)
        d = next(x for x in p.dashboards if x.scope == "nc")
        used = {dc.card for dc in d.dashcards} | {q.values_card for q in d.parameters}
        return {
            c.name: {"description": c.description, "display": c.display, "sql": c.sql,
                     "tags": c.template_tags, "viz": c.visualization_settings}
            for c in p.cards if c.scope == "nc" and c.ref in used
        }  # fmt: skip

    assert dash_view(again) == dash_view(want)
    got, expected = card_view(again), card_view(want)
    assert sorted(got) == sorted(expected)
    for name, card in expected.items():
        assert got[name] == card, name


def test_unrender_restores_filter_slots() -> None:
    defs = definitions.load_definitions()
    params = defs.parameter_by_id
    text = "SELECT 1 FROM analytics.mart_screener_data WHERE TRUE [[AND {{date}}]]\n"
    rendered = definitions.render_sql(
        text, engine="postgres", schema="prod", params=params, available=params,
        filter_table=defs.parameters.filter_table,
    )  # fmt: skip
    assert "[[AND {{date_range}}]]" in rendered  # the date slot is a field filter now
    rev = metabase_export.Reverse(schema="prod")
    back, window = metabase_export.unrender_sql(
        rendered, "postgres", params, defs.parameters.filter_table, rev
    )
    assert (back, window) == (text, None)


def test_unrender_writes_a_field_filter_back_as_its_bare_slot() -> None:
    """A field filter (tag type dimension, declared by name) renders as the bare tag, Metabase
    writing the predicate; export writes it back as the slot the parameter is bound to."""
    from types import SimpleNamespace

    dim = SimpleNamespace(id="date_range", slot="date", tag_type="dimension", column="x")
    plain = SimpleNamespace(
        id="partner", slot="partner", tag_type="text", column="partner", operator="="
    )
    sql = (
        "SELECT 1 FROM analytics.mart_screener_data WHERE TRUE [[AND {{date_range}}]] "
        "[[AND analytics.mart_screener_data.partner = {{partner}}]]\n"
    )
    params = {"date_range": dim, "partner": plain}
    back, _ = metabase_export.unrender_sql(
        sql, "postgres", params, "mart_screener_data", metabase_export.Reverse()
    )
    assert back == (
        "SELECT 1 FROM analytics.mart_screener_data WHERE TRUE [[AND {{date}}]] "
        "[[AND {{partner}}]]\n"
    )


def test_every_production_card_sql_renders_back_from_its_export() -> None:
    """For every card production declares (BigQuery on: GA cards with the dataset and the
    scope's state codes), the exported SQL renders to the very SQL Metabase holds."""
    cfg = _stack()
    defs = definitions.load_definitions()
    plan = definitions.render_for_config(cfg, defs, bigquery=True)
    dataset = f"{cfg.gcp.project}.{cfg.gcp.analytics_dataset}"
    scopes = {s.key: s for s in plan.scopes}
    params = defs.parameter_by_id
    engines = {d.ref: d.engine for d in plan.databases}
    checked = Counter()
    for card in plan.cards:
        scope = scopes[card.scope]
        engine = engines[card.database]
        codes = scopes[scope.reads].state_codes if scope.reads else scope.state_codes
        rev = metabase_export.Reverse(cfg.database.schema_name, dataset, tuple(codes))
        back, window = metabase_export.unrender_sql(
            card.sql, engine, params, defs.parameters.filter_table, rev
        )
        state_column = "state_code"
        if engine == "bigquery":
            back, found = metabase_export._state_filter(back, rev)
            state_column = found or state_column
        available = set(VARIABLE_NAMES.findall(card.sql))
        again = definitions.render_sql(
            back, engine=engine, schema=cfg.database.schema_name, params=params,
            available=available, filter_table=defs.parameters.filter_table, window_days=window,
            bq_dataset=dataset, state_codes=codes, state_column=state_column,
            global_scope=card.scope == definitions.GLOBAL,
        )  # fmt: skip
        assert again == card.sql, (card.scope, card.key)
        checked[engine] += 1
    assert checked["postgres"] > 100 and checked["bigquery"] > 20, checked


def test_exported_sql_is_written_in_the_declared_form(world: World) -> None:
    """No stack-specific names in the files: the schema as analytics., the BigQuery dataset as
    __BQ__., the GA state codes as __STATE_FILTER__, the filter clauses as slots."""
    cfg = _stack()
    texts = [p.read_text() for p in (world.exported["global.yaml"] / "sql").iterdir()]
    dataset = f"{cfg.gcp.project}.{cfg.gcp.analytics_dataset}"
    ga = [t for t in texts if "__BQ__." in t]
    assert ga and [t for t in ga if not re.search(r"__STATE_FILTER(_NULL|_NOT_CESN)?__", t)] == []
    assert not any(dataset in t for t in texts)
    # global cards carry no filters; the 7-day card's fixed window is the date slot again
    clauses = {c for t in texts for c in re.findall(r"\[\[.*?\]\]", t)}
    assert clauses == {"[[AND {{date}}]]"}
    cards = yaml.safe_load((world.exported["global.yaml"] / "content/cards.yaml").read_text())
    assert [c.get("window_days") for c in cards["cards"].values() if "window_days" in c] == [7]


def test_a_card_wired_otherwise_than_declared_cards_are_is_refused(
    world: World, tmp_path: Path, capsys
) -> None:
    """The renderer wires a card to every dashboard filter among its variables; a live card
    wired to fewer would silently gain filters on the next up, so export names it instead."""
    plan = definitions.render_for_config(_stack(), bigquery=True)
    name, coll = _names(plan, "nc", "main")
    dash = next(d for d in world.double.dashboards.values() if d["name"] == name)
    dc = next(d for d in dash["dashcards"] if d.get("parameter_mappings"))
    saved = dc["parameter_mappings"]
    dc["parameter_mappings"] = saved[:1]
    try:
        args = ["--scope", "tenant", "--stack", "production", "--tenant", "nc"]
        assert export(world.double, tmp_path / "nc", name, coll, args) == 1
        assert "is wired to filters" in capsys.readouterr().err
        assert not (tmp_path / "nc").exists()
    finally:
        dc["parameter_mappings"] = saved
