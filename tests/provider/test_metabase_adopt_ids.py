"""``metabaseAdopt``: objects the Terraform workspace made under other names are taken over by
id on the first ``up`` (through Pulumi's real provider host, on the Metabase double), and the
map's mistakes are errors, not silent duplicates."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from conftest import double_only
from host import HostEngine
from metabase_double import MetabaseDouble
from production import duplicates, errors_of, operate, production_content, start_double, writes
from pydantic import ValidationError

from components.config import ConfigError, MetabaseAdopt
from components.metabase_content import adopt_map
from components.metabase_content.definitions import render_for_config
from mfb_infra.sql import load_stack_config

pytestmark = double_only

#: (kind, ref, the live object's name Terraform gave it)
RENAMED = [
    ("cards", "tx/completed_screeners", "Completed Screens"),
    ("dashboards", "tx/main", "Texas (Terraform)"),
    ("collections", "cpal/main", "CPAL (Terraform)"),
]


def _counts(double: MetabaseDouble) -> tuple[int, int, int]:
    return len(double.cards), len(double.dashboards), len(double.collections)


def _terraform_made() -> tuple[MetabaseDouble, dict[str, dict[str, int]]]:
    """A Metabase holding production's content from a state that is then thrown away, three
    objects of it under other names; and the id map naming those three."""
    base = production_content(bigquery=False)
    double = start_double(base)
    content = base.for_url(double.url)
    made = operate(HostEngine(), content, lambda e: e.up(content.resources))
    assert made.ok, errors_of(made)
    plan = render_for_config(load_stack_config("production"), bigquery=False)
    coll_name = {c.ref: c.name for c in plan.collections}
    coll_id = {c["name"]: int(i) for i, c in double.collections.items()}
    tx = coll_id[coll_name[("tx", "main")]]
    store = {"cards": double.cards, "dashboards": double.dashboards}
    ids: dict[str, dict[str, int]] = {"cards": {}, "dashboards": {}, "collections": {}}
    for kind, ref, new_name in RENAMED:
        if kind == "collections":
            oid = coll_id[coll_name[("cpal", "main")]]
            double.collections[oid]["name"] = new_name
        else:
            spec = next(
                s for s in (plan.cards if kind == "cards" else plan.dashboards)
                if f"{s.scope}/{s.key}" == ref
            )  # fmt: skip
            oid = next(
                int(i) for i, o in store[kind].items()
                if o["name"] == spec.name and o.get("collection_id") == tx
            )  # fmt: skip
            store[kind][oid]["name"] = new_name
        ids[kind][ref] = oid
    return double, ids


def _declared(double: MetabaseDouble, adopt: dict[str, Any] | None) -> Any:
    extra = json.dumps({"metabaseAdopt": adopt}) if adopt else ""
    return production_content(bigquery=False, extra_config=extra).for_url(double.url)


def test_first_up_adopts_the_mapped_ids_and_renames_them_back() -> None:
    double, ids = _terraform_made()
    try:
        before = _counts(double)
        declared = _declared(double, ids)
        engine = HostEngine()
        first = operate(engine, declared, lambda e: e.up(declared.resources))
        assert first.ok, errors_of(first)
        assert _counts(double) == before
        assert duplicates(double) == Counter()
        plan = render_for_config(load_stack_config("production"), bigquery=False)
        want = {
            "cards": {f"{c.scope}/{c.key}": c.name for c in plan.cards},
            "dashboards": {f"{d.scope}/{d.key}": d.name for d in plan.dashboards},
            "collections": {f"{c.scope}/{c.key}": c.name for c in plan.collections},
        }
        live = {"cards": double.cards, "dashboards": double.dashboards,
                "collections": double.collections}  # fmt: skip
        for kind, ref, _old in RENAMED:
            assert live[kind][ids[kind][ref]]["name"] == want[kind][ref]
        double.reset_counts()
        second = operate(engine, declared, lambda e: e.up(declared.resources))
        assert second.ok and set(second.ops.values()) == {"same"}
        assert writes(double) == []
    finally:
        double.stop()


def test_without_the_map_renamed_objects_are_made_again() -> None:
    """The control: by name alone, the three renamed objects are not found and get new ones
    (and the CPAL collection's cards and dashboard with it)."""
    double, _ids = _terraform_made()
    try:
        before = _counts(double)
        declared = _declared(double, None)
        result = operate(HostEngine(), declared, lambda e: e.up(declared.resources))
        assert result.ok, errors_of(result)
        after = _counts(double)
        assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)
    finally:
        double.stop()


def test_an_id_metabase_does_not_hold_fails_the_create_naming_the_key() -> None:
    base = production_content(bigquery=False)
    double = start_double(base)
    try:
        declared = _declared(double, {"cards": {"tx/completed_screeners": 987654}})
        result = operate(HostEngine(), declared, lambda e: e.up(declared.resources))
        assert not result.ok
        message = " ".join(str(e) for e in result.errors.values())
        assert "metabaseAdopt" in message and "987654" in message
    finally:
        double.stop()


def test_an_undeclared_key_is_a_config_error_naming_it() -> None:
    cfg = load_stack_config("production")
    plan = render_for_config(cfg, bigquery=False)
    metabase = cfg.metabase.model_copy(
        update={"adopt": MetabaseAdopt(cards={"tx/completed_screener": 5})}
    )
    with pytest.raises(ConfigError) as err:
        adopt_map(cfg.model_copy(update={"metabase": metabase}), plan)
    assert "metabaseAdopt.cards" in str(err.value)
    assert "'tx/completed_screener' is not a card" in str(err.value)
    assert "in scope 'tx'" in str(err.value)


@pytest.mark.parametrize(
    "cards",
    [{"completed_screeners": 5}, {"tx/a": 0}, {"tx/a": 5, "tx/b": 5}],
    ids=["no-scope", "not-an-id", "one-id-twice"],
)
def test_a_malformed_map_is_rejected(cards: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        MetabaseAdopt(cards=cards)
