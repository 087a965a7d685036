"""The production stack's Metabase content, as the program itself registers it, for host.py.

``production_content()`` runs the real program (``mfb_infra.program.run_program("production")``)
under Pulumi's mocks with Metabase content and BigQuery on, and turns every registered
``pulumi-python:dynamic/metabase:*`` resource into a ``host.Desired``: its inputs as the engine
would send them (secrets plain: the host declines secrets), the very ``__provider`` string the
program registered, and its dependencies. Under mocks a dependency's id is a stand-in value
(``mfb_infra.program._fake_outputs``); each such value inside a property that depends on that
resource (``propertyDependencies``) becomes a ``host.Ref`` to the real output, so the engine
resolves it from state when the dependent's step runs (or passes the unknown sentinel in a
preview). A dependency whose stand-in is not found in the property is an error, not a guess.

``duplicates(double)`` counts objects of every kind that exist more than once.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from host import Desired, HostEngine, ProviderHost, Ref, RunResult
from metabase_double import MetabaseDouble

METABASE = "pulumi-python:dynamic/metabase:"
ADMIN_PASSWORD = "Xq7-long-enough-pass!"  # test double only
PLACEHOLDER_URL = "http://metabase-under-test.invalid"
#: fake BigQuery key document: shaped like a service-account key, holds no key material
FAKE_SA_KEY = json.dumps(
    {
        "type": "service_account",
        "project_id": "mfb-data",
        "private_key_id": "test-only",
        "private_key": "-----BEGIN PRIVATE KEY-----\ntest-only\n-----END PRIVATE KEY-----\n",
        "client_email": "metabase@mfb-data.iam.gserviceaccount.com",
    }
)
#: the client's production retry count (RetryPolicy.attempts), with millisecond backoff
RETRY_ENV = {"MFB_METABASE_RETRY": "attempts=5,backoff=0.002,max_backoff=0.01,timeout=10"}
ID_KEYS = {
    "Database": "database_id",
    "Collection": "collection_id",
    "Card": "card_id",
    "Dashboard": "dashboard_id",
    "PermissionsGroup": "group_id",
}


@dataclass
class Content:
    """The program's Metabase resources and the stack config the engine would configure with."""

    resources: list[Desired]
    config: dict[str, str]
    admin_email: str
    #: tables dbt builds, per Metabase database name (what a sync then shows)
    warehouse: dict[str, list[str]]

    def for_url(self, url: str) -> Content:
        """The same program with the Metabase URL (config ``metabaseUrl``) set to ``url``."""
        return Content(
            [
                Desired(d.urn, _replace(d.inputs, PLACEHOLDER_URL, url), d.provider, d.depends_on)
                for d in self.resources
            ],
            _replace(self.config, PLACEHOLDER_URL, url),
            self.admin_email,
            self.warehouse,
        )

    def kinds(self) -> Counter:
        return Counter(d.urn.split("::")[-2].rsplit(":", 1)[-1] for d in self.resources)


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, Mapping):
        return {k: _replace(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    return value


@functools.lru_cache(maxsize=4)
def production_content(
    bigquery: bool = True, sync_timeout_seconds: int = 5, extra_config: str = ""
) -> Content:
    """Production's Metabase content (global + every tenant; BigQuery on unless ``bigquery`` is
    False) from the program. ``sync_timeout_seconds``: the double syncs at once, so a wait that
    lasts longer means the tables will never appear. ``extra_config``: more config overrides, a
    JSON object (hashable, for the cache)."""
    from mfb_infra.program import cli_config, run_program, unwrap

    overrides = {
        "metabaseUrl": PLACEHOLDER_URL,
        "gcpBigqueryEnabled": bigquery,
        "metabaseSyncTimeoutSeconds": sync_timeout_seconds,
        **(json.loads(extra_config) if extra_config else {}),
    }
    secrets = {"metabaseAdminPassword": ADMIN_PASSWORD, "metabaseBigquerySaKey": FAKE_SA_KEY}
    run = run_program("production", overrides, secret_values=secrets)
    config, _secret_keys = cli_config("production", overrides, secret_values=secrets)
    regs = [r for r in run.registrations if r.type.startswith(METABASE) and r.custom]
    by_urn = {r.urn: r for r in regs}
    stand_ins: dict[str, tuple[float, str]] = {}
    from mfb_infra.program import _fake_outputs

    for r in regs:
        key = ID_KEYS.get(r.type.rsplit(":", 1)[-1])
        if key:
            value = _fake_outputs(r.type, r.name, dict(r.inputs))[key]
            if value < 100:  # would be confusable with grid positions and sizes
                raise AssertionError(f"{r.name}: mock id {value} is too small to resolve safely")
            stand_ins[r.urn] = (float(value), key)

    resources = []
    for r in regs:
        inputs = unwrap(r.inputs)
        provider = inputs.pop("__provider")
        if not isinstance(provider, str) or len(provider) > 4096:
            raise AssertionError(f"{r.name}: unexpected __provider {str(provider)[:60]!r}")
        for prop, urns in r.property_dependencies.items():
            deps = {u: stand_ins[u] for u in urns if u in by_urn and u in stand_ins}
            if not deps:
                continue
            values: dict[float, Ref] = {}
            for urn, (value, key) in deps.items():
                if value in values:
                    raise AssertionError(f"{r.name}.{prop}: two dependencies share mock id {value}")
                values[value] = Ref(urn, key)
            used: set[str] = set()
            inputs[prop] = _to_refs(inputs[prop], values, used)
            missing = sorted(set(deps) - used)
            if missing:
                raise AssertionError(f"{r.name}.{prop}: no value from {missing} found to resolve")
        depends = tuple(sorted({*r.dependencies, *_flat(r.property_dependencies)} & set(by_urn)))
        resources.append(Desired(r.urn, inputs, provider, depends))

    warehouse: dict[str, list[str]] = {}
    for d in resources:
        if "dynamic/metabase:Database::" in d.urn:
            warehouse[d.inputs["name"]] = _tables_dbt_builds(d.inputs)
    return Content(
        resources, config, str(config.get("mfb-analytics:metabaseAdminEmail")), warehouse
    )


def _flat(deps: Mapping[str, list[str]]) -> set[str]:
    return {u for urns in deps.values() for u in urns}


def _to_refs(value: Any, values: Mapping[float, Ref], used: set[str]) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        ref = values.get(float(value))
        if ref is None:
            return value
        used.add(ref.urn)
        return ref
    if isinstance(value, Mapping):
        return {k: _to_refs(v, values, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_refs(v, values, used) for v in value]
    return value


def _tables_dbt_builds(db: Mapping[str, Any]) -> list[str]:
    """``schema.table`` names Metabase's sync shows once dbt has run. The BigQuery driver reports
    each table with ``schema`` = its dataset (metabase/metabase
    ``modules/drivers/bigquery-cloud-sdk/src/metabase/driver/bigquery_cloud_sdk.clj``,
    ``describe-database``), so a BigQuery table is ``<dataset>.<table>`` whatever the program
    declares as required."""
    tables = [str(t) for t in db.get("required_tables") or []]
    if db.get("engine") == "bigquery-cloud-sdk":
        dataset = str((db.get("details") or {}).get("dataset-filters-patterns") or "").split(",")
        return [f"{dataset[0]}.{t.rsplit('.', 1)[-1]}" for t in tables]
    return tables


def duplicates(double: Any) -> Counter:
    """Objects of each kind that exist more than once in the double (0 everywhere = none)."""
    seen: Counter = Counter()
    for db in double.databases.values():
        seen[("database", db["name"])] += 1
    for c in double.collections.values():
        seen[("collection", c["name"], c.get("location"))] += 1
    for c in double.cards.values():
        seen[("card", c["name"], c.get("home_collection_id", c.get("collection_id")))] += 1
    for d in double.dashboards.values():
        seen[("dashboard", d["name"], d.get("collection_id"))] += 1
        for tab in d.get("tabs") or []:
            seen[("dashboard tab", d["id"], tab.get("name"))] += 1
        for dc in d.get("dashcards") or []:
            seen[("dashcard", d["id"], dc.get("dashboard_tab_id"), dc["row"], dc["col"])] += 1
    for g in double.groups.values():
        seen[("permissions group", g["name"])] += 1
    dupes: Counter = Counter()
    for key, n in seen.items():
        if n > 1:
            dupes[key[0]] += n - 1
    return dupes


WRITES = ("POST", "PUT", "DELETE")


def writes(double: Any) -> list[tuple[str, str]]:
    """Requests that change Metabase content (a login's new session is not content)."""
    return [(m, p) for m, p in double.requests if m in WRITES and p != "/api/session"]


def operate(
    engine: HostEngine,
    content: Content,
    op: Callable[[HostEngine], RunResult],
    env: Mapping[str, str] = RETRY_ENV,
) -> RunResult:
    """One CLI operation (``pulumi up``/``refresh``/``preview``): the engine starts a fresh host
    process, configures it once with the stack config, and stops it afterwards."""
    engine.host = ProviderHost(content.config, env=env).start()
    try:
        return op(engine)
    finally:
        engine.host.stop()


def start_double(content: Content, fault_rate: float = 0.0, seed: int = 1) -> MetabaseDouble:
    """A fresh Metabase (first-run setup still to do) whose warehouse holds what dbt builds."""
    double = MetabaseDouble(sync_delay=0.0).start()
    double.warehouse.update(content.warehouse)
    for d in content.resources:  # the BigQuery datasets (and tables) dbt's BigQuery build makes
        if (
            "dynamic/metabase:Database::" in d.urn
            and d.inputs.get("engine") == "bigquery-cloud-sdk"
        ):
            for qualified in content.warehouse.get(d.inputs["name"], []):
                dataset, table = qualified.split(".", 1)
                double.bq_datasets.setdefault(dataset, []).append(table)
    double.faults.rate = fault_rate
    double.faults.rng.seed(seed)
    return double


def errors_of(result: RunResult, limit: int = 5) -> dict[str, str]:
    """The first ``limit`` errors of a run, by resource name (first line of each)."""
    items = list(result.errors.items())[:limit]
    return {u.rsplit("::", 1)[-1]: str(e).splitlines()[0][:300] for u, e in items}
