"""The BigQuery (GA4) marts on this machine: dbt's compiled BigQuery SQL, run in DuckDB.

No BigQuery here (no network, no account), so the GA4 tree is compiled offline
(`dbt compile --target bigquery`, a throwaway service-account key nobody can use), transpiled
from the BigQuery dialect to DuckDB by sqlglot, and materialized over GA4 export rows in the
export's own shape (`event_params` as an array of key/value structs, `_table_suffix` per
shard) in dependency order (dbt's manifest). `mfb-infra preview` runs the BigQuery cards on it;
the dbt tests check each mart's figures on it.

The rows come from `mfb_infra.ga4_fixture.GA4_EVENTS` unless given.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mfb_infra.charts import ChartError, Result
from mfb_infra.dbt_runner import DBT_PROJECT_DIR, run_dbt

PROJECT, GA4_DATASET = "mfb-test-project", "analytics_123456"
SCHEMAS = ("analytics_internal", "analytics")
BQ_TABLE_RE = re.compile(r"`([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)`")


def throwaway_service_account(path: Path) -> Path:
    """A syntactically valid key nobody can use: google-auth loads it without network."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "offline",
                "private_key": pem,
                "client_email": f"offline@{PROJECT}.iam.gserviceaccount.com",
                "client_id": "0",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


def compile_bigquery(work: Path, *, incremental: bool = False) -> tuple[dict[str, str], dict]:
    """(model name -> compiled SQL, manifest) of the BigQuery tree, compiled offline."""
    work.mkdir(parents=True, exist_ok=True)
    target = work / ("incremental" if incremental else "full")
    env = {
        "DBT_TARGET": "bigquery",
        "GCP_PROJECT_ID": PROJECT,
        "GCP_ANALYTICS_TABLE": GA4_DATASET,
        "GOOGLE_APPLICATION_CREDENTIALS": str(throwaway_service_account(work / "sa.json")),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    run_dbt(
        [
            "compile",
            "--target",
            "bigquery",
            "--no-populate-cache",
            "--no-introspect",
            "--vars",
            json.dumps({"offline_compile": True, "offline_incremental": incremental}),
        ],
        env=env,
    )
    files = (target / "compiled" / "mfb_analytics" / "models" / "bigquery").rglob("*.sql")
    manifest = json.loads((target / "manifest.json").read_text())
    # data tests compile into <schema>.yml/ folders beside the models: not models
    return {f.stem: f.read_text() for f in files if f.parent.suffix != ".yml"}, manifest


def compiled_data_tests(work: Path, *, incremental: bool = False) -> dict[str, str]:
    """Data test name -> compiled SQL, from a `compile_bigquery(work)` run."""
    target = work / ("incremental" if incremental else "full")
    files = (target / "compiled" / "mfb_analytics" / "models" / "bigquery").rglob("*.sql")
    return {f.stem: f.read_text() for f in files if f.parent.suffix == ".yml"}


def dbt_tree_hash(project: Path = DBT_PROJECT_DIR) -> str:
    """A digest of everything dbt compiles from (models, macros, project and profiles)."""
    import hashlib

    h = hashlib.sha256()
    skip = {"target", "logs", "dbt_packages"}
    for f in sorted(project.rglob("*")):
        rel = f.relative_to(project)
        if f.is_file() and rel.parts[0] not in skip and f.name != ".user.yml":
            h.update(str(rel).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def compile_bigquery_cached(cache_root: Path) -> tuple[dict[str, str], dict]:
    """`compile_bigquery`, kept under cache_root/<digest of dbt/>: dbt's start-up and parse
    cost tens of seconds, and the compiled SQL changes only when dbt/ does."""
    cache = cache_root / dbt_tree_hash()
    done = cache / "compiled.json"
    if done.exists():
        data = json.loads(done.read_text())
        return data["models"], data["manifest"]
    models, manifest = compile_bigquery(cache / "work")
    slim = {
        "nodes": {
            k: {
                "name": n["name"],
                "unique_id": n["unique_id"],
                "resource_type": n["resource_type"],
                "schema": n["schema"],
                "config": {"materialized": n["config"].get("materialized", "view")},
                "depends_on": {"nodes": n["depends_on"]["nodes"]},
            }
            for k, n in manifest["nodes"].items()
            if n.get("resource_type") == "model"
        }
    }
    done.write_text(json.dumps({"models": models, "manifest": slim}))
    return models, slim


def build_order(manifest: dict, names: Iterable[str]) -> list[tuple[str, str, str]]:
    """(model, schema, materialization) of the BigQuery models, dependencies first."""
    wanted = set(names)
    nodes = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n.get("resource_type") == "model" and n["name"] in wanted
    }
    by_id = {n["unique_id"]: n["name"] for n in nodes.values()}
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        if name in seen:
            return
        if name in path:
            raise RuntimeError(f"dependency cycle through {name}")
        for dep in nodes[name]["depends_on"]["nodes"]:
            if dep in by_id:
                visit(by_id[dep], (*path, name))
        seen.add(name)
        order.append(name)

    for name in sorted(nodes):
        visit(name)
    return [(n, nodes[n]["schema"], nodes[n]["config"].get("materialized", "view")) for n in order]


def _param(key: str, value: Any) -> dict[str, Any]:
    """One `event_params` entry as the export holds it: the value in the slot of its type."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_float = isinstance(value, float)
    if value is None or is_int or is_float:
        text = None
    elif isinstance(value, bool):
        text = "true" if value else "false"  # the web app sends flags as text
    else:
        text = str(value)
    return {
        "key": key,
        "value": {
            "string_value": text,
            "int_value": value if is_int else None,
            "double_value": value if is_float else None,
        },
    }


EVENT_COLUMNS = {
    "_table_suffix": "VARCHAR",
    "event_date": "VARCHAR",
    "event_timestamp": "BIGINT",
    "event_name": "VARCHAR",
    "user_pseudo_id": "VARCHAR",
    "user_id": "VARCHAR",
    "event_bundle_sequence_id": "BIGINT",
    "batch_event_index": "BIGINT",
    "event_params": "STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value BIGINT, "
    "double_value DOUBLE))[]",
    "items": "STRUCT(item_id VARCHAR, item_name VARCHAR, item_category VARCHAR, "
    "item_list_name VARCHAR)[]",
}
EVENTS_DDL = (
    "CREATE TABLE events_fixture (" + ", ".join(f"{k} {v}" for k, v in EVENT_COLUMNS.items()) + ")"
)


def load_events(con: Any, events: Sequence[tuple]) -> None:
    """Rows (suffix, event_date, timestamp µs, name, user, params[, items]) into
    `events_fixture` in one bulk read of newline-delimited JSON in the export's shape:
    row-by-row inserts of nested structs cost ~7 ms each."""
    with tempfile.TemporaryDirectory(prefix="mfb-ga4-events-") as tmp:
        path = Path(tmp) / "events.ndjson"
        with path.open("w") as f:
            for i, (suffix, day, ts, name, user, params, *rest) in enumerate(events):
                row = {
                    "_table_suffix": suffix,
                    "event_date": day,
                    "event_timestamp": ts,
                    "event_name": name,
                    "user_pseudo_id": user,
                    "user_id": None,
                    "event_bundle_sequence_id": i,
                    "batch_event_index": 0,
                    "event_params": [_param(k, v) for k, v in params.items()],
                    "items": list(rest[0]) if rest else [],
                }
                f.write(json.dumps(row) + "\n")
        columns = ", ".join(f"{k}: '{v}'" for k, v in EVENT_COLUMNS.items())
        con.execute(
            "INSERT INTO events_fixture SELECT * FROM read_json(?, format = 'newline_delimited', "
            f"columns = {{{columns}}})",
            [str(path)],
        )


def to_duckdb(sql: str) -> str:
    """Compiled BigQuery SQL of this project as DuckDB SQL over the fixture table."""
    import sqlglot

    sql = sql.replace(f"`{PROJECT}`.`{GA4_DATASET}`.`events_*`", "events_fixture").replace(
        f"`{PROJECT}`.", ""
    )
    return sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]


class Ga4DuckDB:
    """An in-memory DuckDB holding every BigQuery model, built over GA4 export rows."""

    def __init__(self, con: Any, schemas: dict[str, str]) -> None:
        self.con = con
        self.schemas = schemas  # model name -> the DuckDB schema holding it

    @classmethod
    def build(
        cls,
        events: Sequence[tuple] | None = None,
        *,
        compiled: tuple[dict[str, str], dict] | None = None,
        work: Path | None = None,
    ) -> Ga4DuckDB:
        import duckdb

        if events is None:
            from mfb_infra.ga4_fixture import GA4_EVENTS as events
        if compiled is None:
            with tempfile.TemporaryDirectory(prefix="mfb-ga4-") as tmp:
                compiled = compile_bigquery(Path(work or tmp))
        models, manifest = compiled
        con = duckdb.connect()
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(EVENTS_DDL)
        load_events(con, events)
        schemas: dict[str, str] = {}
        for name, schema, materialized in build_order(manifest, models):
            kind = "VIEW" if materialized == "view" else "TABLE"
            con.execute(f"CREATE {kind} {schema}.{name} AS {to_duckdb(models[name])}")
            schemas[name] = schema
        return cls(con, schemas)

    def run(self, card: Any, scope: Any = None) -> Result:
        """A BigQuery card's SQL (no filter values) on the DuckDB marts."""
        import duckdb
        import sqlglot

        from mfb_infra.preview import without_optional_clauses

        sql = without_optional_clauses(card.sql)
        # the card names `project.dataset.mart`; here a mart lives in the schema dbt gave it
        sql = BQ_TABLE_RE.sub(
            lambda m: f"`{self.schemas.get(m.group(3), m.group(2))}`.`{m.group(3)}`", sql
        )
        try:
            duck = sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]
            cur = self.con.execute(duck)
        except (duckdb.Error, sqlglot.errors.SqlglotError) as e:
            raise ChartError(f"SQL failed: {str(e).strip().splitlines()[0]}") from None
        cols = tuple(d[0] for d in cur.description or ())
        return Result(cols, tuple(tuple(r) for r in cur.fetchall()))
