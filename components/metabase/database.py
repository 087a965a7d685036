"""Database: a Metabase data source (postgres or bigquery-cloud-sdk) that is synced before use.

Secrets (``password``, ``service-account-json``) travel in the separate ``secrets`` input: it is
wrapped in ``Output.secret`` and never written to outputs; outputs keep only a keyed digest
(``secrets_sha256``) so a rotation still shows as a change. Metabase answers secrets as
``**MetabasePass**`` and merges ``details`` on ``PUT``, so an update sends a secret only when its
digest changed. After create (and after a details change) the provider triggers ``sync_schema`` and
waits until every ``required_tables`` entry is visible: one ``pulumi up``, not three.
"""

from __future__ import annotations

import fnmatch
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from .base import (
    MetabaseConnection,
    MetabaseProvider,
    check_type,
    connection_input,
    is_unknown,
    progress,
    require_fields,
    secret_opts,
)
from .client import MetabaseClient, MetabaseError, MetabaseNotFound
from .normalize import REDACTED, details_view, fingerprint

ENGINES = ("postgres", "bigquery-cloud-sdk")
SECRET_KEYS = {"postgres": ("password",), "bigquery-cloud-sdk": ("service-account-json",)}
REQUIRED_DETAILS = {
    "postgres": ("host", "port", "dbname", "user"),
    "bigquery-cloud-sdk": ("project-id",),
}
FILTER_TYPES = ("inclusion", "exclusion", "all")
DEFAULT_SYNC_TIMEOUT = 900.0
DEFAULT_SYNC_POLL = 5.0
MAX_SYNC_POLL = 30.0


DBT_BIGQUERY_RUN = (
    "the dbt BigQuery build creates it: the nightly workflow's `dbt build (<env> / bigquery)` "
    "job (.github/workflows/dbt-nightly.yml, run it with workflow_dispatch), or locally "
    "`.venv/bin/dbt build --project-dir dbt --profiles-dir dbt --target bigquery` "
    "(see dbt/README.md)"
)
NO_DATASET_MESSAGE = "cannot find any matching datasets"


class SyncTimeout(MetabaseError):
    """Required tables did not appear before the deadline."""


class BigQueryDatasetMissing(MetabaseError):
    """Metabase's BigQuery connection test found no dataset matching the connection's filter."""


def datasets_of(details: Mapping[str, Any]) -> list[str]:
    return [
        p.strip()
        for p in str(details.get("dataset-filters-patterns") or "").split(",")
        if p.strip()
    ]


def explain_missing_dataset(exc: MetabaseError, props: Mapping[str, Any]) -> MetabaseError:
    """Turn the BigQuery driver's "Looks like we cannot find any matching datasets." (answered
    while the dataset does not exist yet) into an error naming the dataset and what creates it."""
    if props.get("engine") != "bigquery-cloud-sdk" or NO_DATASET_MESSAGE not in exc.message.lower():
        return exc
    details = props.get("details") or {}
    project = details.get("project-id") or "?"
    datasets = ", ".join(f"{project}.{d}" for d in datasets_of(details)) or "(no filter)"
    return BigQueryDatasetMissing(
        exc.status,
        exc.method,
        exc.path,
        f"BigQuery dataset {datasets} does not exist yet, so Metabase cannot connect "
        f"({exc.message!r}); {DBT_BIGQUERY_RUN}. Run it, then `pulumi up` again.",
        exc.body,
    )


def visible_tables(client: MetabaseClient, db_id: int) -> tuple[set[str], dict[str, Any]]:
    """Lower-cased ``schema.table`` names Metabase shows for the database, and the database."""
    db = client.get(f"database/{db_id}", include="tables")
    names = set()
    for table in db.get("tables") or []:
        schema, name = table.get("schema"), table.get("name")
        if name and table.get("active", True):
            names.add(f"{schema}.{name}".lower() if schema else str(name).lower())
    return names, db


def wait_for_tables(
    client: MetabaseClient,
    db_id: int,
    required: Sequence[str],
    *,
    label: str,
    timeout: float = DEFAULT_SYNC_TIMEOUT,
    poll: float = DEFAULT_SYNC_POLL,
    max_poll: float = MAX_SYNC_POLL,
) -> list[str]:
    """Poll (with backoff) until ``required`` tables are visible; re-sync once after sync ends.

    Raises ``SyncTimeout`` naming the missing tables when ``timeout`` seconds pass, or at once
    when Metabase reports the sync as ``aborted``.
    """
    wanted = {t.lower(): t for t in required}
    deadline = time.monotonic() + timeout
    resynced = False
    interval = poll
    while True:
        names, db = visible_tables(client, db_id)
        missing = sorted(orig for low, orig in wanted.items() if low not in names)
        if not missing:
            return sorted(wanted.values())
        status = db.get("initial_sync_status")
        if status == "aborted":
            raise SyncTimeout(
                0,
                "POST",
                f"database/{db_id}/sync_schema",
                f"sync of {label} was aborted by Metabase; missing tables: {', '.join(missing)}",
            )
        if status == "complete" and not resynced:
            client.post_idempotent(f"database/{db_id}/sync_schema")
            resynced = True
        left = deadline - time.monotonic()
        if left <= 0:
            raise SyncTimeout(
                0,
                "GET",
                f"database/{db_id}",
                f"{label}: tables still missing after {timeout:.0f}s: {', '.join(missing)} "
                "(did dbt build them in the schema/dataset this connection filters on? "
                "raise sync_timeout_seconds or run `mfb-infra metabase sync` later)",
            )
        progress(
            f"{label}: waiting for {len(missing)} table(s) ({', '.join(missing[:4])}"
            f"{', …' if len(missing) > 4 else ''}); sync {status}; {left:.0f}s left"
        )
        time.sleep(min(interval, max(left, 0.0)))
        interval = min(interval * 1.5, max_poll)


class DatabaseProvider(MetabaseProvider):
    managed = ("name", "engine", "details", "secrets", "required_tables")
    replace_on = ("engine",)
    secret_outputs = ("connection", "secrets", "secrets_sha256")

    def defaults(self) -> dict[str, Any]:
        return {
            "details": {},
            "secrets": {},
            "required_tables": [],
            "sync_timeout_seconds": DEFAULT_SYNC_TIMEOUT,
            "sync_poll_seconds": DEFAULT_SYNC_POLL,
        }

    def validate(self, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = require_fields(news, ("name", "engine"), "Database")
        engine = news.get("engine")
        if engine and not is_unknown(engine) and engine not in ENGINES:
            failures.append(("engine", f"Database.engine must be one of {ENGINES}, got {engine!r}"))
            return failures
        failures += check_type(news, "details", dict, "Database", "a mapping")
        failures += check_type(news, "secrets", dict, "Database", "a mapping")
        failures += check_type(news, "required_tables", list, "Database", "a list of names")
        if failures or not engine or is_unknown(engine):
            return failures
        details, secrets = news.get("details") or {}, news.get("secrets") or {}
        # preview: a whole mapping may still be unknown (built from outputs of new resources)
        details_open = not isinstance(details, Mapping)
        secrets_open = not isinstance(secrets, Mapping)
        details = {} if details_open else details
        secrets = {} if secrets_open else secrets
        for key in details:
            if key in SECRET_KEYS[engine] and details[key] not in (None, REDACTED):
                failures.append(
                    (f"details.{key}", f"Database.details.{key} is a secret: pass it in secrets")
                )
        for key in REQUIRED_DETAILS[engine]:
            if not details_open and details.get(key) in (None, ""):
                failures.append(
                    (f"details.{key}", f"Database.details.{key} is required for {engine}")
                )
        for key in SECRET_KEYS[engine]:
            if not secrets_open and not is_unknown(secrets) and not secrets.get(key):
                failures.append(
                    (f"secrets.{key}", f"Database.secrets.{key} is required for {engine}")
                )
        for key in secrets:
            if key not in SECRET_KEYS[engine]:
                failures.append(
                    (
                        f"secrets.{key}",
                        f"Database.secrets.{key} is not a {engine} secret "
                        f"(allowed: {', '.join(SECRET_KEYS[engine])})",
                    )
                )
        failures += self._validate_engine_details(engine, details, secrets)
        for i, table in enumerate(news.get("required_tables") or []):
            if is_unknown(table):
                continue
            if not isinstance(table, str) or not table.strip() or table.count(".") > 1:
                failures.append(
                    (
                        f"required_tables[{i}]",
                        f"Database.required_tables[{i}] must be 'schema.table', got {table!r}",
                    )
                )
            elif engine == "bigquery-cloud-sdk":
                failures += self._validate_bigquery_table(i, table, details, details_open)
        for name in ("sync_timeout_seconds", "sync_poll_seconds"):
            failures += check_type(news, name, (int, float), "Database", "a number of seconds")
        return failures

    @staticmethod
    def _validate_engine_details(
        engine: str, details: Mapping[str, Any], secrets: Mapping[str, Any]
    ) -> list[tuple[str, str]]:
        failures: list[tuple[str, str]] = []
        if engine == "postgres":
            port = details.get("port")
            if port is not None and not is_unknown(port):
                if (
                    isinstance(port, bool)
                    or not isinstance(port, (int, float))
                    or not 0 < port < 65536
                ):
                    failures.append(
                        ("details.port", f"Database.details.port must be 1-65535, got {port!r}")
                    )
            ftype = details.get("schema-filters-type")
            if ftype is not None and ftype not in FILTER_TYPES:
                failures.append(
                    (
                        "details.schema-filters-type",
                        f"Database.details.schema-filters-type must be one of {FILTER_TYPES}",
                    )
                )
        else:
            sa = secrets.get("service-account-json")
            if isinstance(sa, str) and not is_unknown(sa):
                try:
                    parsed = json.loads(sa)
                except ValueError:
                    parsed = None
                if not isinstance(parsed, dict) or "private_key" not in parsed:
                    failures.append(
                        (
                            "secrets.service-account-json",
                            "Database.secrets.service-account-json must be a service-account key "
                            "JSON document (with private_key)",
                        )
                    )
            ftype = details.get("dataset-filters-type")
            if ftype is not None and ftype not in FILTER_TYPES:
                failures.append(
                    (
                        "details.dataset-filters-type",
                        f"Database.details.dataset-filters-type must be one of {FILTER_TYPES}",
                    )
                )
        return failures

    @staticmethod
    def _validate_bigquery_table(
        i: int, table: str, details: Mapping[str, Any], details_open: bool
    ) -> list[tuple[str, str]]:
        """The BigQuery driver reports every table with schema = its dataset id, so a required
        table is ``<dataset>.<table>``, in a dataset the connection's filter includes."""
        where = f"required_tables[{i}]"
        if "." not in table:
            return [
                (
                    where,
                    f"Database.{where} {table!r} must be '<dataset>.<table>': Metabase's BigQuery "
                    "driver reports each table with its dataset as schema",
                )
            ]
        dataset = table.split(".", 1)[0].lower()
        patterns = [p.lower() for p in datasets_of(details)]
        if (
            not details_open
            and details.get("dataset-filters-type") == "inclusion"
            and patterns
            and not any(fnmatch.fnmatchcase(dataset, p) for p in patterns)
        ):
            return [
                (
                    where,
                    f"Database.{where} is in dataset {dataset!r}, which "
                    f"details.dataset-filters-patterns ({', '.join(patterns)}) leaves out",
                )
            ]
        return []

    # ------------------------------------------------------------------ diff helpers
    def comparable(self, key: str, value: Any, props: Mapping[str, Any]) -> Any:
        if key == "secrets":
            if props.get("secrets"):
                return fingerprint(props["secrets"], _salt(props))
            return props.get("secrets_sha256") or ""
        if key == "details":
            details = dict(value or {})
            if not details.get("ssl"):
                details.pop("ssl", None)  # Metabase may upgrade to ssl:true by itself
            return details
        if key == "required_tables":
            return sorted(str(t).lower() for t in value or [])
        return value

    # ------------------------------------------------------------------ CRUD
    def _body(self, props: Mapping[str, Any], with_secrets: bool) -> dict[str, Any]:
        details = dict(props.get("details") or {})
        if isinstance(details.get("port"), float):
            details["port"] = int(details["port"])
        if with_secrets:
            details.update(props.get("secrets") or {})
        return {"name": props["name"], "engine": props["engine"], "details": details}

    def _find(self, client: MetabaseClient, props: Mapping[str, Any]) -> dict[str, Any] | None:
        for db in client.list_data("database"):
            if db.get("name") == props["name"] and db.get("engine") == props["engine"]:
                return db
        return None

    def _sync_and_wait(
        self, client: MetabaseClient, db_id: int, props: Mapping[str, Any]
    ) -> list[str]:
        label = f"Metabase database {props['name']!r} (id {db_id})"
        client.post_idempotent(f"database/{db_id}/sync_schema")
        required = list(props.get("required_tables") or [])
        if not required:
            return []
        return wait_for_tables(
            client,
            db_id,
            required,
            label=label,
            timeout=float(props.get("sync_timeout_seconds") or DEFAULT_SYNC_TIMEOUT),
            poll=float(props.get("sync_poll_seconds") or DEFAULT_SYNC_POLL),
        )

    def _outs(self, props: Mapping[str, Any], db_id: int, tables: list[str]) -> dict[str, Any]:
        outs = {k: v for k, v in props.items() if k != "secrets"}
        outs["secrets_sha256"] = fingerprint(props.get("secrets"), _salt(props))
        outs["database_id"] = db_id
        outs["tables_ready"] = tables
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self.client(props)
        existing = self._find(client, props)
        try:
            if existing is not None:
                progress(
                    f"adopting existing Metabase database {props['name']!r} (id {existing['id']})"
                )
                client.put(f"database/{existing['id']}", self._body(props, with_secrets=True))
                db_id = int(existing["id"])
            else:
                db = client.create_adopting(
                    lambda: client.post(
                        "database", {**self._body(props, True), "is_full_sync": True}
                    ),
                    lambda: self._find(client, props),
                    f"database {props['name']!r}",
                )
                db_id = int(db["id"])
        except MetabaseError as exc:
            raise explain_missing_dataset(exc, props) from exc
        tables = self._sync_and_wait(client, db_id, props)
        return CreateResult(id_=str(db_id), outs=self._outs(props, db_id, tables))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = self.client(news)
        secrets_changed = self.comparable("secrets", None, olds) != self.comparable(
            "secrets", None, news
        )
        details_changed = self.comparable("details", olds.get("details"), olds) != self.comparable(
            "details", news.get("details"), news
        )
        body = self._body(news, with_secrets=secrets_changed)
        if not (secrets_changed or details_changed):
            body.pop("details")
        if body.get("name") != olds.get("name") or "details" in body:
            try:
                client.put(f"database/{id_}", body)
            except MetabaseError as exc:
                raise explain_missing_dataset(exc, news) from exc
        tables_grew = set(news.get("required_tables") or []) - set(olds.get("tables_ready") or [])
        if secrets_changed or details_changed or tables_grew:
            tables = self._sync_and_wait(client, int(id_), news)
        else:
            tables = list(olds.get("tables_ready") or [])
        return UpdateResult(outs=self._outs(news, int(id_), tables))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = self.client(props)
        try:
            db = client.get(f"database/{id_}")
        except MetabaseNotFound:
            return ReadResult(id_="", outs={})
        outs = dict(props)
        outs["name"] = db.get("name")
        outs["engine"] = db.get("engine")
        live = details_view(db.get("details") or {}, props.get("details") or {})
        declared = props.get("details") or {}
        if not declared.get("ssl") and "ssl" in live:
            live["ssl"] = declared.get("ssl")  # auto-upgraded ssl is not drift
        outs["details"] = live
        outs["database_id"] = int(db["id"])
        return ReadResult(id_=str(db["id"]), outs=outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.client(props).delete(f"database/{id_}")


def _salt(props: Mapping[str, Any]) -> str:
    return f"mfb-metabase-database:{props.get('engine')}"


@dataclass
class DatabaseArgs:
    name: pulumi.Input[str]
    engine: pulumi.Input[str]
    details: pulumi.Input[Mapping[str, Any]]
    secrets: pulumi.Input[Mapping[str, Any]] = field(default_factory=dict, repr=False)
    required_tables: pulumi.Input[Sequence[str]] = field(default_factory=list)
    connection: MetabaseConnection | None = None
    sync_timeout_seconds: pulumi.Input[float] | None = None
    sync_poll_seconds: pulumi.Input[float] | None = None


class Database(Resource, module="metabase", name="Database"):
    """A Metabase database connection; create/update return once ``required_tables`` are synced."""

    database_id: pulumi.Output[int]
    tables_ready: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "connection": connection_input(args.connection),
            "name": args.name,
            "engine": args.engine,
            "details": args.details,
            "secrets": pulumi.Output.secret(args.secrets),
            "required_tables": args.required_tables,
            "sync_timeout_seconds": args.sync_timeout_seconds,
            "sync_poll_seconds": args.sync_poll_seconds,
            "database_id": None,
            "tables_ready": None,
        }
        provider = DatabaseProvider()
        super().__init__(provider, name, props, secret_opts(opts, provider.secret_outputs))


def postgres_details(
    *,
    host: str,
    port: int,
    dbname: str,
    user: str,
    ssl: bool = True,
    ssl_mode: str | None = "require",
    schemas: Sequence[str] = ("analytics",),
    additional_options: str | None = None,
) -> dict[str, Any]:
    """Non-secret details for a Postgres connection limited to ``schemas``."""
    details: dict[str, Any] = {
        "host": host,
        "port": port,
        "dbname": dbname,
        "user": user,
        "ssl": ssl,
        "schema-filters-type": "inclusion" if schemas else "all",
        "tunnel-enabled": False,
        "advanced-options": bool(additional_options),
    }
    if ssl and ssl_mode:
        details["ssl-mode"] = ssl_mode
    if schemas:
        details["schema-filters-patterns"] = ",".join(schemas)
    if additional_options:
        details["additional-options"] = additional_options
    return details


def bigquery_details(*, project_id: str, datasets: Sequence[str]) -> dict[str, Any]:
    """Non-secret details for a BigQuery connection limited to ``datasets``."""
    return {
        "project-id": project_id,
        "dataset-filters-type": "inclusion" if datasets else "all",
        "dataset-filters-patterns": ",".join(datasets),
        "advanced-options": False,
    }
