"""End to end through Pulumi's real provider host: production's whole Metabase content.

The content is what ``__main__.py`` registers for the production stack (global + 8 tenants, with
and without BigQuery; see production.py), driven by host.HostEngine against the Metabase double.
As in ``pulumi up``, every operation (up, refresh, preview) starts its own
``python -m pulumi.dynamic`` process, configured once with the stack config; the client retries
as in production (``attempts=5``), only with millisecond backoff.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from conftest import double_only
from host import HostEngine, RunResult
from metabase_double import MetabaseDouble
from production import (
    Content,
    duplicates,
    errors_of,
    operate,
    production_content,
    start_double,
    writes,
)

pytestmark = double_only

FAULT_RATE = 0.2
MAX_UPS = 3
BIGQUERY = [
    pytest.param(False, id="bigquery-off"),
    pytest.param(True, id="bigquery-on"),
]


@dataclass
class Deployment:
    content: Content
    double: MetabaseDouble
    engine: HostEngine
    results: dict[str, RunResult] = field(default_factory=dict)
    writes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def run(self, label: str, op: Callable[[HostEngine], RunResult]) -> RunResult:
        self.double.reset_counts()
        result = operate(self.engine, self.content, op)
        self.results[label] = result
        self.writes[label] = writes(self.double)
        return result

    def require_created(self) -> None:
        created = self.results["create"]
        assert created.ok, f"the first up failed: {errors_of(created)}"


@pytest.fixture(scope="module", params=BIGQUERY)
def deployed(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    base = production_content(bigquery=request.param)
    double = start_double(base)
    content = base.for_url(double.url)
    dep = Deployment(content, double, HostEngine())
    try:
        dep.run("create", lambda e: e.up(content.resources))
        dep.run("no-op up", lambda e: e.up(content.resources))
        dep.run("refresh", lambda e: e.refresh())
        dep.run("preview", lambda e: e.preview(content.resources))
        yield dep
    finally:
        double.stop()


def test_program_registers_the_whole_production_content() -> None:
    from components.metabase_content.definitions import render_for_config
    from mfb_infra.sql import load_stack_config

    kinds = production_content(bigquery=True).kinds()
    plan = render_for_config(load_stack_config("production"), bigquery=True)
    declared = (len(plan.databases), len(plan.dashboards), len(plan.cards))
    assert (kinds["Database"], kinds["Dashboard"], kinds["Card"]) == declared
    assert kinds["Card"] > 200  # global, 8 tenants and the overlays


@pytest.mark.parametrize("bigquery", [False, True], ids=["bigquery-off", "bigquery-on"])
def test_first_preview_checks_every_resource_with_unknown_ids(bigquery: bool) -> None:
    base = production_content(bigquery=bigquery)
    double = start_double(base)
    try:
        content = base.for_url(double.url)
        result = operate(HostEngine(), content, lambda e: e.preview(content.resources))
        assert result.ok, errors_of(result)
        assert set(result.ops.values()) == {"create"}
        assert double.requests == []
    finally:
        double.stop()


def test_production_content_converges_in_one_up(deployed: Deployment) -> None:
    deployed.require_created()
    assert Counter(deployed.results["create"].ops.values()) == {
        "create": len(deployed.content.resources)
    }
    assert duplicates(deployed.double) == Counter()


def test_created_content_is_all_in_metabase(deployed: Deployment) -> None:
    deployed.require_created()
    kinds, double = deployed.content.kinds(), deployed.double
    databases = [d for d in double.databases.values() if not d.get("is_sample")]
    assert (len(double.cards), len(double.dashboards), len(double.collections), len(databases)) == (
        kinds["Card"],
        kinds["Dashboard"],
        kinds["Collection"],
        kinds["Database"],
    )


def test_noop_up_sends_no_writes(deployed: Deployment) -> None:
    deployed.require_created()
    result = deployed.results["no-op up"]
    assert result.ok and set(result.ops.values()) == {"same"}
    assert deployed.writes["no-op up"] == []


def test_refresh_reads_without_writing_or_drift(deployed: Deployment) -> None:
    deployed.require_created()
    result = deployed.results["refresh"]
    assert result.ok, errors_of(result)
    assert deployed.writes["refresh"] == [] and result.changed() == []


def test_preview_after_refresh_shows_no_change(deployed: Deployment) -> None:
    deployed.require_created()
    result = deployed.results["preview"]
    assert result.ok and result.changed() == []


def test_field_filters_point_at_their_own_databases_fields(deployed: Deployment) -> None:
    """Every field-filter tag names (by id) the declared column of its card's own database, and
    every dashcard maps it as a dimension (components/metabase/card.py resolves by name)."""
    deployed.require_created()
    double = deployed.double
    by_id = {
        fid: (db_id, *table.split(".", 1), column)
        for db_id, db in double.databases.items()
        for (table, column), fid in db.get("fields", {}).items()
    }
    dimension_tags: set[tuple[int, str]] = set()
    for card in double.cards.values():
        dq = card["dataset_query"]
        for name, tag in ((dq.get("native") or {}).get("template-tags") or {}).items():
            if tag.get("type") != "dimension":
                continue
            db_id, schema, table, column = by_id[tag["dimension"][1]]
            assert db_id == dq["database"], f"{card['name']}: {name} is another database's field"
            assert (schema, table) == ("analytics", "mart_screener_data")
            assert column == {"date_range": "submission_date"}.get(name, name)
            dimension_tags.add((card["id"], name))
    assert len(dimension_tags) > 100
    for dash in double.dashboards.values():
        for dc in dash["dashcards"]:
            for m in dc.get("parameter_mappings") or []:
                tag = m["target"][1][1]
                kind = "dimension" if (dc["card_id"], tag) in dimension_tags else "variable"
                assert m["target"][0] == kind, f"{dash['name']}: {m}"


@pytest.mark.parametrize(
    ("bigquery", "seed"),
    [
        pytest.param(False, 1, id="bigquery-off-seed1"),
        pytest.param(True, 2, id="bigquery-on-seed2"),
    ],
)
def test_under_faults_converges_within_three_ups_without_duplicates(
    bigquery: bool, seed: int
) -> None:
    base = production_content(bigquery=bigquery)
    double = start_double(base, FAULT_RATE, seed)
    content = base.for_url(double.url)
    engine = HostEngine()
    try:
        runs = []
        for _ in range(MAX_UPS):
            runs.append(operate(engine, content, lambda e: e.up(content.resources)))
            if runs[-1].ok:
                break
        assert runs[-1].ok, f"not converged after {len(runs)} ups: {errors_of(runs[-1])}"
        assert sum(double.faults.injected.values()) > 0.1 * len(double.requests)
        assert duplicates(double) == Counter()
        double.faults.rate = 0.0
        double.reset_counts()
        noop = operate(engine, content, lambda e: e.up(content.resources))
        assert noop.ok and noop.changed() == [] and writes(double) == []
        refresh = operate(engine, content, lambda e: e.refresh())
        preview = operate(engine, content, lambda e: e.preview(content.resources))
        assert refresh.ok and refresh.changed() == [] and preview.changed() == []
    finally:
        double.stop()
