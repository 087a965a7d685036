"""An in-process Metabase v0.56 API double served over real HTTP on 127.0.0.1.

Follows /work/shared/reference/metabase-api.md and, where our provider depends on a behaviour,
the Metabase server source (github.com/metabase/metabase). The GitHub snapshot was too large for
the ``fetch`` tool (2.8 GB), so the files were read from the code index (``read_file``), at the
commits it holds; each is a master-era version of the file, checked against the 0.56 facts in the
reference where they differ:

- src/metabase/permissions/models/data_permissions/graph.clj @212e5714 (sparse data graph, OSS
  ``blocked`` → 402), src/metabase/permissions/schema.clj @0fc58bbe (value orders),
  src/metabase/permissions/models/data_permissions.clj @01727343 (new group / new database
  defaults), src/metabase/permissions/api.clj @0ecd51c0 (PUT /graph: revision check, one
  revision per PUT), src/metabase/permissions/models/collection/graph.clj @01319825 (sparse
  collection graph), src/metabase/setup/api.clj @0ac1cd55 (prefs: site_name, site_locale),
  src/metabase/api/dashboard.clj (0.51-era, before its move to dashboards/api.clj: ``POST "/"``
  reads name, description, parameters, cache_ttl, collection_id, collection_position only;
  ``update-dashboard``: archived → 404, current tabs → every dashcard needs a tab; the newest
  dashboards code checks the new tabs instead, which the provider's two-PUT path also satisfies),
  the BigQuery driver
  modules/drivers/bigquery-cloud-sdk/src/metabase/driver/bigquery_cloud_sdk.clj
  (``list-tables``: "Looks like we cannot find any matching datasets.", schema = dataset id),
  src/metabase/collections/models/collection.clj (``copy-parent-permissions!``: a new collection
  copies its parent's grants; creation bumps the collection-graph revision), and the
  reference's reading of models/card.clj ``create-card!`` (entity_id ignored).

Not read in the source, taken from the reference / Metabase's documented defaults: All Users may
curate the root collection on a fresh instance; ``PUT /api/setting/:key`` answers 204.

Also: session auth and expiry, health while initializing, strict validation (400 with
``errors``), secret redaction and details merging, sync that completes after a delay,
collection archiving (no DELETE), dashboards whose ``PUT`` replaces tabs/dashcards by id
(negative ids create), unstable dashcard order, permission graphs with revisions (409 when
stale). Faults can be injected: 502 before or after processing, and dropped connections after
processing (a lost response).
"""

from __future__ import annotations

import copy
import fnmatch
import itertools
import json
import random
import re
import secrets
import socket
import string
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REDACTED = "**MetabasePass**"
DBT_MARTS = Path(__file__).resolve().parents[2] / "dbt" / "models" / "postgres" / "marts"
OUTPUT_COLUMN_RE = re.compile(r"^\s+(?:.*\bas\s+|[a-z_]+\.)([a-z_][a-z0-9_]*),?\s*$", re.M)


def dbt_mart_columns(table: str) -> list[str]:
    """Output columns of a Postgres mart as dbt builds it: the select list of its ``final`` CTE
    (each line ending in ``alias.column`` or ``... as column``). Empty for other tables."""
    path = DBT_MARTS / f"{table}.sql"
    if not path.is_file():
        return []
    text = path.read_text()
    start = text.find("final as (")
    if start < 0:
        return []
    body = text[start : text.find("\n    from ", start)]
    return list(dict.fromkeys(OUTPUT_COLUMN_RE.findall(body)))


SECRET_DETAIL_KEYS = ("password", "service-account-json")
TRASH_ID = 13
NANO = string.ascii_letters + string.digits + "_-"
ALL_USERS_GROUP, ADMIN_GROUP = 1, 2
#: API values of each data permission type, most to least permissive (permissions/schema.clj
#: ``data-permissions``; API names from data_permissions/graph.clj ``->api-vals``)
DATA_VALUES: dict[str, tuple[str, ...]] = {
    "view-data": ("unrestricted", "legacy-no-self-service", "blocked"),
    "create-queries": ("query-builder-and-native", "query-builder", "no"),
    "download": ("full", "limited", "none"),
    "data-model": ("all", "none"),
    "details": ("yes", "no"),
}
LEAST_DATA = {k: v[-1] for k, v in DATA_VALUES.items()}
FULL_DATA = {
    "view-data": "unrestricted",
    "create-queries": "query-builder-and-native",
    "download": "full",
    "data-model": "none",
    "details": "no",
}
DOWNSTREAM_KEYS = ("view-data", "create-queries", "download")
#: keys the API nests under ``{"schemas": level}``
SCHEMAS_KEYS = ("download", "data-model")


class ApiError(Exception):
    def __init__(self, status: int, body: Any):
        self.status = status
        self.body = body


def bad(field_name: str, message: str) -> ApiError:
    return ApiError(
        400, {"errors": {field_name: message}, "specific-errors": {field_name: [message]}}
    )


def nanoid() -> str:
    return "".join(secrets.choice(NANO) for _ in range(21))


@dataclass
class Faults:
    rate: float = 0.0
    kinds: tuple[str, ...] = ("502-before", "502-after", "drop-after")
    seed: int = 1
    rng: random.Random = field(default_factory=random.Random)
    injected: Counter = field(default_factory=Counter)
    #: one-shot faults: (method, path prefix, kind), each fired by the first matching request
    once: list[tuple[str, str, str]] = field(default_factory=list)

    def pick(self, method: str, path: str) -> str | None:
        for i, (m, prefix, kind) in enumerate(self.once):
            if m == method and path.startswith(prefix):
                del self.once[i]
                self.injected[kind] += 1
                return kind
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(self.kinds)
        self.injected[kind] += 1
        return kind


class MetabaseDouble:
    """State + routing. ``start()`` serves it; ``url`` is the base URL."""

    def __init__(self, *, sync_delay: float = 0.2, boot_delay: float = 0.0) -> None:
        self.lock = threading.RLock()
        self.sync_delay = sync_delay
        self.booted_at = time.monotonic() + boot_delay
        self.setup_token = secrets.token_hex(16)
        self.users: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, str] = {}
        self.api_keys: dict[str, str] = {}
        self.ids = itertools.count(100)
        self.collections: dict[int, dict[str, Any]] = {}
        self.cards: dict[int, dict[str, Any]] = {}
        self.dashboards: dict[int, dict[str, Any]] = {}
        self.databases: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {
            1: {"id": 1, "name": "All Users"},
            2: {"id": 2, "name": "Administrators"},
        }
        #: data permissions of the non-admin groups, stored in full: group → database → perm
        #: type → API value (Administrators are added at GET time, as the server does)
        self.data_perms: dict[str, dict[str, dict[str, str]]] = {}
        #: explicit collection grants ("read"/"write"); a missing pair is "none". A fresh
        #: Metabase lets All Users curate the root collection.
        self.coll_perms: dict[str, dict[str, str]] = {"1": {"root": "write"}}
        #: premium features (``advanced-permissions`` unlocks view-data "blocked"); OSS: none
        self.premium_features: set[str] = set()
        self.settings: dict[str, Any] = {"site-name": "Metabase", "anon-tracking-enabled": False}
        self.data_revision = 1
        self.collection_revision = 1
        #: tables each database would show after a sync, keyed by database name ("*" = default)
        self.warehouse: dict[str, list[str]] = {"*": ["analytics.mart_screener_data"]}
        #: columns of each warehouse table (``schema.table`` or bare table name), which a sync
        #: turns into Metabase fields; a table not listed syncs with no fields
        #: (default: the Postgres marts' columns as dbt builds them, ``dbt_mart_columns``)
        self.columns: dict[str, list[str]] = {}
        #: BigQuery: dataset id → table names in the project (what dbt's BigQuery run made)
        self.bq_datasets: dict[str, list[str]] = {}
        self.faults = Faults()
        #: seconds every API request waits before it is handled (outside the lock): a network
        #: round trip, so concurrent callers overlap the way they do against a real server
        self.latency = 0.0
        #: requests waiting out ``latency`` now / at most at once (how many callers overlap)
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[tuple[str, str]] = []
        self.stats: Counter = Counter()
        self.rng = random.Random(7)
        self._seed_sample_database()
        self.server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> MetabaseDouble:
        double = self

        class Handler(_Handler):
            state = double

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # ------------------------------------------------------------------ helpers for tests
    def setup_admin(self, email: str, password: str) -> None:
        with self.lock:
            self.users[email] = {
                "id": 1,
                "email": email,
                "password": password,
                "is_superuser": True,
            }

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def count(self, method: str | None = None, prefix: str = "") -> int:
        return sum(
            1 for m, p in self.requests if (method is None or m == method) and p.startswith(prefix)
        )

    def reset_counts(self) -> None:
        self.requests.clear()
        self.stats.clear()

    def _seed_sample_database(self) -> None:
        self.databases[1] = {
            "id": 1,
            "name": "Sample Database",
            "engine": "h2",
            "details": {"db": "sample"},
            "initial_sync_status": "complete",
            "tables": ["PUBLIC.ORDERS", "PUBLIC.PEOPLE"],
            "sync_until": 0.0,
            "sync_tables": [],
            "is_sample": True,
        }
        self.data_perms["1"] = {"1": dict(FULL_DATA)}

    def _grant_new_database(self, db_id: int) -> None:
        """Every non-admin group's permissions on a new database.

        data_permissions.clj ``new-database-permissions``: view-data ``unrestricted`` on OSS;
        create-queries and download at the group's lowest level on any database (else the most
        permissive); data-model and details ``no``.
        """
        for gid in self.groups:
            if gid == ADMIN_GROUP:
                continue
            existing = list(self.data_perms.get(str(gid), {}).values())

            def lowest(key: str, existing: list[dict[str, str]] = existing) -> str:
                order = DATA_VALUES[key]
                levels = [p[key] for p in existing if key in p]
                return max(levels, key=order.index) if levels else order[0]

            self.data_perms.setdefault(str(gid), {})[str(db_id)] = {
                "view-data": "unrestricted",
                "create-queries": lowest("create-queries"),
                "download": lowest("download"),
                "data-model": "none",
                "details": "no",
            }

    def _grant_new_group(self, gid: int) -> None:
        """A new group copies All Users' data permissions on each database (``set-new-group-
        permissions!`` in data_permissions.clj) and gets no collection grant."""
        all_users = self.data_perms.get(str(ALL_USERS_GROUP), {})
        self.data_perms[str(gid)] = {
            db: {**dict(LEAST_DATA), **{k: p[k] for k in DOWNSTREAM_KEYS if k in p}}
            for db, p in all_users.items()
        }

    # ------------------------------------------------------------------ dispatch
    def handle(
        self, method: str, raw_path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if not path.startswith("/api/"):
            return 200, "<!doctype html><html><body>Metabase</body></html>"
        route = path[len("/api/") :].rstrip("/")
        if route == "health":
            if time.monotonic() < self.booted_at:
                return 503, {"status": "initializing", "progress": 0.4}
            return 200, {"status": "ok"}
        if time.monotonic() < self.booted_at:
            return 503, "Metabase is still initializing. Please sit tight..."
        with self.lock:
            try:
                return self._route(method, route, query, body, headers)
            except ApiError as exc:
                return exc.status, exc.body

    def _user(self, headers: dict[str, str]) -> dict[str, Any]:
        key = headers.get("x-api-key")
        if key and key in self.api_keys:
            return self.users[self.api_keys[key]]
        sid = headers.get("x-metabase-session")
        if not sid or sid not in self.sessions:
            raise ApiError(401, "Unauthenticated")
        return self.users[self.sessions[sid]]

    def _route(
        self, method: str, route: str, q: dict[str, str], body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        seg = route.split("/")
        if route == "session/properties" and method == "GET":
            setup = bool(self.users)
            return 200, {
                "has-user-setup": setup,
                "setup-token": None if setup else self.setup_token,
                "version": {"tag": "v0.56.19"},
            }
        if route == "setup" and method == "POST":
            return self._setup(body)
        if route == "session" and method == "POST":
            return self._login(body)
        if route == "session" and method == "DELETE":
            self.sessions.pop(headers.get("x-metabase-session", ""), None)
            return 204, None
        user = self._user(headers)
        if not user.get("is_superuser"):
            raise ApiError(403, "You don't have permissions to do that.")
        if route == "user/current":
            return 200, {k: v for k, v in user.items() if k != "password"}
        handler = getattr(self, f"_r_{seg[0].replace('-', '_')}", None)
        if handler is None:
            raise ApiError(404, "API endpoint does not exist.")
        return handler(method, seg[1:], q, body)

    # ------------------------------------------------------------------ auth
    def _setup(self, body: Any) -> tuple[int, Any]:
        if self.users:
            raise ApiError(
                403,
                "The /api/setup route can only be used to create the first user, "
                "however a user currently exists.",
            )
        if not isinstance(body, dict) or body.get("token") != self.setup_token:
            raise bad("token", "Token does not match the setup token.")
        u = body.get("user") or {}
        if not u.get("email") or "@" not in u["email"]:
            raise bad("email", "value must be a valid email address.")
        pw = u.get("password") or ""
        if len(pw) < 6 or pw.lower() in ("password", "metabase", "12345678"):
            raise bad("password", "password is too common.")
        # setup/api.clj: prefs destructures only site_name (required) and site_locale; any other
        # key (e.g. allow_tracking) is ignored, and setup-set-settings! turns tracking ON
        prefs = body.get("prefs") or {}
        site_name = prefs.get("site_name")
        if not isinstance(site_name, str) or not site_name.strip():
            raise bad("site_name", "value must be a non-blank string.")
        self.setup_admin(u["email"], pw)
        self.settings["site-name"] = site_name
        self.settings["anon-tracking-enabled"] = True
        sid = secrets.token_hex(16)
        self.sessions[sid] = u["email"]
        return 200, {"id": sid}

    def _login(self, body: Any) -> tuple[int, Any]:
        body = body or {}
        user = self.users.get(body.get("username"))
        if user is None or user["password"] != body.get("password"):
            raise ApiError(401, {"errors": {"password": "did not match stored password"}})
        sid = secrets.token_hex(16)
        self.sessions[sid] = user["email"]
        return 200, {"id": sid}

    # ------------------------------------------------------------------ databases
    def _db_view(self, db: dict[str, Any], tables: bool = False) -> dict[str, Any]:
        self._advance_sync(db)
        details = {
            k: (REDACTED if k in SECRET_DETAIL_KEYS else v) for k, v in db["details"].items()
        }
        view = {
            "id": db["id"],
            "name": db["name"],
            "engine": db["engine"],
            "details": details,
            "initial_sync_status": db["initial_sync_status"],
            "is_sample": db.get("is_sample", False),
        }
        if tables:
            view["tables"] = [
                {
                    "id": 1000 + i,
                    "db_id": db["id"],
                    "schema": t.split(".")[0] if "." in t else None,
                    "name": t.split(".")[-1],
                    "active": True,
                    "initial_sync_status": "complete",
                }
                for i, t in enumerate(db["tables"])
            ]
        return view

    def _advance_sync(self, db: dict[str, Any]) -> None:
        if db["sync_until"] and time.monotonic() >= db["sync_until"]:
            db["tables"] = list(db["sync_tables"])
            db["initial_sync_status"] = "complete"
            db["sync_until"] = 0.0
            self._sync_fields(db)

    def _table_columns(self, qualified: str) -> list[str]:
        bare = qualified.split(".")[-1]
        return self.columns.get(qualified, self.columns.get(bare, dbt_mart_columns(bare)))

    def _sync_fields(self, db: dict[str, Any]) -> None:
        """sync-fields: one Field row per column of each synced table. A field keeps its id
        across syncs (metabase/metabase ``src/metabase/sync/sync_metadata/fields/common.clj``
        ``matching-field-metadata`` matches a column to its Field by name; a column that goes
        away is retired, one that comes back is reactivated); a new column gets a new id."""
        fields = db.setdefault("fields", {})
        for table in db["tables"]:
            for column in self._table_columns(table):
                if (table, column) not in fields:
                    fields[(table, column)] = next(self.ids)

    def resync_fields(self, db_id: int) -> None:
        """Every field of the database gets a new id: what a card sees when its fields were
        re-created outside a normal sync (a Metabase app-database restore, fields deleted and
        re-synced by hand). A normal resync keeps ids (``_sync_fields``)."""
        with self.lock:
            db = self.databases[db_id]
            db["fields"] = {}
            self._sync_fields(db)

    def _metadata_view(self, db: dict[str, Any], skip_fields: bool) -> dict[str, Any]:
        """``GET /api/database/:id/metadata`` (metabase/metabase
        ``src/metabase/warehouses/api.clj``, ``GET /:id/metadata``): the database with its
        active tables, each with its fields (``id, name, table_id, ...``) unless
        ``skip_fields=true``."""
        view = self._db_view(db, tables=True)
        if not skip_fields:
            fields = db.get("fields", {})
            for table, qualified in zip(view["tables"], db["tables"], strict=True):
                table["fields"] = [
                    {
                        "id": fields[(qualified, column)],
                        "name": column,
                        "display_name": column.replace("_", " ").title(),
                        "table_id": table["id"],
                        "active": True,
                        "visibility_type": "normal",
                    }
                    for column in self._table_columns(qualified)
                    if (qualified, column) in fields
                ]
        return view

    def _bq_matching_datasets(self, details: dict[str, Any]) -> list[str]:
        """Datasets the connection's filter selects (``driver.s/include-schema?``: comma-separated
        patterns, ``*`` wildcards, case-insensitive)."""
        ftype = details.get("dataset-filters-type") or "all"
        patterns = [
            p.strip().lower()
            for p in str(details.get("dataset-filters-patterns") or "").split(",")
            if p.strip()
        ]
        datasets = sorted(self.bq_datasets)
        if ftype == "all" or not patterns:
            return datasets
        hit = [d for d in datasets if any(fnmatch.fnmatchcase(d.lower(), p) for p in patterns)]
        if ftype == "exclusion":
            return [d for d in datasets if d not in hit]
        return hit

    def _start_sync(self, db: dict[str, Any]) -> None:
        if db["engine"] == "bigquery-cloud-sdk":
            # describe-database: every table is reported with schema = its dataset id
            tables = [
                f"{ds}.{t}"
                for ds in self._bq_matching_datasets(db["details"])
                for t in self.bq_datasets[ds]
            ]
            db["sync_tables"] = tables
            db["sync_until"] = time.monotonic() + self.sync_delay
            self.stats["syncs"] += 1
            return
        tables = self.warehouse.get(db["name"], self.warehouse.get("*", []))
        db["sync_tables"] = list(tables)
        db["sync_until"] = time.monotonic() + self.sync_delay
        self.stats["syncs"] += 1

    def _test_connection(self, engine: str, details: dict[str, Any]) -> None:
        if engine == "postgres":
            for key in ("host", "port", "dbname", "user"):
                if details.get(key) in (None, ""):
                    raise ApiError(
                        400, {"message": f"missing {key}", "errors": {key: "value is required"}}
                    )
            if not details.get("password"):
                raise ApiError(
                    400,
                    {
                        "message": "password authentication failed",
                        "errors": {"password": "check your password"},
                    },
                )
            if str(details["host"]).endswith(".invalid"):
                raise ApiError(
                    400,
                    {
                        "message": "Couldn't connect to host",
                        "errors": {"host": "check your host settings"},
                    },
                )
        elif engine == "bigquery-cloud-sdk":
            try:
                sa = json.loads(details.get("service-account-json") or "")
            except ValueError:
                raise bad("service-account-json", "invalid service account JSON") from None
            if "private_key" not in sa or not details.get("project-id"):
                raise bad("service-account-json", "invalid service account JSON")
            ftype = details.get("dataset-filters-type") or "all"
            if ftype != "all" and not self._bq_matching_datasets(details):
                # bigquery_cloud_sdk.clj list-tables / can-connect?: a filter matching no dataset
                raise ApiError(400, {"message": "Looks like we cannot find any matching datasets."})
        else:
            raise bad("engine", "value must be a valid database engine.")

    def _r_database(
        self, method: str, seg: list[str], q: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if not seg:
            if method == "GET":
                data = [self._db_view(db) for db in self.databases.values()]
                return 200, {"data": data, "total": len(data)}
            if method == "POST":
                return self._db_create(body)
            raise ApiError(404, "API endpoint does not exist.")
        db = self.databases.get(int(seg[0])) if seg[0].isdigit() else None
        if db is None:
            raise ApiError(404, "Not found.")
        if len(seg) == 2 and seg[1] == "sync_schema" and method == "POST":
            self._start_sync(db)
            return 200, {"status": "ok"}
        if len(seg) == 2 and seg[1] == "metadata" and method == "GET":
            return 200, self._metadata_view(db, skip_fields=q.get("skip_fields") == "true")
        if method == "GET":
            return 200, self._db_view(db, tables=q.get("include") == "tables")
        if method == "PUT":
            body = body or {}
            if "details" in body:
                merged = dict(db["details"])
                for k, v in (body["details"] or {}).items():
                    if v != REDACTED:
                        merged[k] = v
                if merged.get("ssl") is not True and db["engine"] == "postgres":
                    merged["ssl"] = True
                self._test_connection(db["engine"], merged)
                db["details"] = merged
            if "name" in body:
                if not body["name"]:
                    raise bad("name", "value must be a non-blank string.")
                db["name"] = body["name"]
            self.stats["database_updates"] += 1
            return 200, self._db_view(db)
        if method == "DELETE":
            del self.databases[db["id"]]
            for g in self.data_perms.values():
                g.pop(str(db["id"]), None)
            self.cards = {
                k: c
                for k, c in self.cards.items()
                if c["dataset_query"].get("database") != db["id"]
            }
            return 204, None
        raise ApiError(404, "API endpoint does not exist.")

    def _db_create(self, body: Any) -> tuple[int, Any]:
        body = body or {}
        for key in ("name", "engine"):
            if not body.get(key):
                raise bad(key, "value must be a non-blank string.")
        if not isinstance(body.get("details"), dict):
            raise bad("details", "value must be a map.")
        details = dict(body["details"])
        self._test_connection(body["engine"], details)
        if body["engine"] == "postgres" and details.get("ssl") is not True:
            details["ssl"] = True  # Metabase tried SSL and kept it
        db_id = next(self.ids)
        db = {
            "id": db_id,
            "name": body["name"],
            "engine": body["engine"],
            "details": details,
            "initial_sync_status": "incomplete",
            "tables": [],
            "sync_until": 0.0,
            "sync_tables": [],
        }
        self.databases[db_id] = db
        self._start_sync(db)
        self._grant_new_database(db_id)
        self.stats["databases_created"] += 1
        return 200, self._db_view(db)

    # ------------------------------------------------------------------ collections
    def _coll_view(self, c: dict[str, Any], detail: bool = True) -> dict[str, Any]:
        view = {k: c[k] for k in ("id", "name", "description", "location", "entity_id", "archived")}
        view["personal_owner_id"] = None
        if detail:
            view["parent_id"] = TRASH_ID if c["archived"] else _parent(c["location"])
            view["can_write"] = True
        return view

    def _r_collection(
        self, method: str, seg: list[str], q: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if seg and seg[0] == "graph":
            if method == "GET":
                return 200, self._coll_graph_view()
            if method == "PUT":
                return self._coll_graph_put(body)
            raise ApiError(404, "API endpoint does not exist.")
        if not seg:
            if method == "GET":
                archived = q.get("archived") == "true"
                data = [{"id": "root", "name": "Our analytics", "location": None}] + [
                    self._coll_view(c, detail=False)
                    for c in self.collections.values()
                    if c["archived"] == archived
                ]
                return 200, data
            if method == "POST":
                return self._coll_create(body)
        if len(seg) == 2 and seg[1] == "items" and method == "GET":
            parent = None if seg[0] == "root" else int(seg[0])
            if parent is not None and parent not in self.collections:
                raise ApiError(404, "Not found.")
            models = (q.get("models") or "card,dashboard,collection").split(",")
            data = []
            if "dashboard" in models:
                data += [
                    {"id": d["id"], "name": d["name"], "model": "dashboard"}
                    for d in self.dashboards.values()
                    if d["collection_id"] == parent and not d["archived"]
                ]
            card_models = {"question": "card", "model": "dataset", "metric": "metric"}
            data += [
                {
                    "id": c["id"],
                    "name": c["name"],
                    "model": card_models[c["type"]],
                    "entity_id": c["entity_id"],
                }
                for c in self.cards.values()
                if c["collection_id"] == parent
                and not c["archived"]
                and card_models[c["type"]] in models
            ]
            return 200, {"data": data, "total": len(data), "models": models}
        coll = self._coll(seg[0])
        if method == "GET":
            return 200, self._coll_view(coll)
        if method == "PUT":
            body = body or {}
            if "name" in body and not body["name"]:
                raise bad("name", "value must be a non-blank string.")
            if (
                "description" in body
                and body["description"] is not None
                and not str(body["description"]).strip()
            ):
                raise bad("description", "value must be a non-blank string.")
            for k in ("name", "description"):
                if k in body:
                    coll[k] = body[k]
            if "parent_id" in body:
                coll["location"] = self._location_for(body["parent_id"])
            if "archived" in body:
                coll["archived"] = bool(body["archived"])
            self.stats["collection_updates"] += 1
            return 200, self._coll_view(coll)
        raise ApiError(404, "API endpoint does not exist.")

    def _coll(self, ident: str) -> dict[str, Any]:
        if ident.isdigit() and int(ident) in self.collections:
            return self.collections[int(ident)]
        for c in self.collections.values():
            if c["entity_id"] == ident:
                return c
        raise ApiError(404, "Not found.")

    def _location_for(self, parent_id: Any) -> str:
        if parent_id is None:
            return "/"
        if not isinstance(parent_id, int) or parent_id not in self.collections:
            raise bad("parent_id", "collection does not exist")
        return self.collections[parent_id]["location"] + f"{parent_id}/"

    def _coll_create(self, body: Any) -> tuple[int, Any]:
        body = body or {}
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            raise bad("name", "value must be a non-blank string.")
        if (
            "description" in body
            and body["description"] is not None
            and not str(body["description"]).strip()
        ):
            raise bad("description", "value must be a non-blank string.")
        cid = next(self.ids)
        coll = {
            "id": cid,
            "name": body["name"],
            "description": body.get("description"),
            "location": self._location_for(body.get("parent_id")),
            "entity_id": nanoid(),
            "archived": False,
        }
        self.collections[cid] = coll
        self._inherit_collection_perms(cid, body.get("parent_id"))
        self.collection_revision += 1
        self.stats["collections_created"] += 1
        view = self._coll_view(coll)
        view.pop("parent_id")  # the POST answer has location but no parent_id
        return 200, view

    # ------------------------------------------------------------------ cards
    def _normalize_query(self, dq: Any) -> dict[str, Any]:
        if not isinstance(dq, dict) or not isinstance(dq.get("database"), int):
            raise bad("dataset_query", "value must be a map with a database id")
        if dq["database"] not in self.databases:
            raise bad("dataset_query", "database does not exist")
        dq = copy.deepcopy(dq)
        if dq.get("type") == "native":
            native = dq.get("native") or {}
            if not isinstance(native.get("query"), str) or not native["query"].strip():
                raise bad("dataset_query", "native query must be a non-blank string")
            tags = native.get("template-tags") or {}
            for name, tag in tags.items():
                tag.setdefault("id", secrets.token_hex(8))
                tag.setdefault("name", name)
                tag.setdefault("display-name", name)
            native["template-tags"] = tags
            dq["native"] = native
        elif dq.get("type") == "query":
            if not isinstance(dq.get("query"), dict):
                raise bad("dataset_query", "query must be a map")
        else:
            raise bad("dataset_query", "type must be native or query")
        return dq

    def _card_params(self, dq: dict[str, Any]) -> list[dict[str, Any]]:
        tags = ((dq.get("native") or {}).get("template-tags")) or {}
        return [
            {
                "id": t["id"],
                "type": t.get("widget-type") or t.get("type"),
                "name": t.get("display-name"),
                "slug": name,
                "target": [
                    "dimension" if t.get("type") == "dimension" else "variable",
                    ["template-tag", name],
                ],
            }
            for name, t in tags.items()
        ]

    def _card_view(self, card: dict[str, Any]) -> dict[str, Any]:
        view = copy.deepcopy(card)
        view.pop("home_collection_id", None)
        view["database_id"] = card["dataset_query"]["database"]
        view["query_type"] = card["dataset_query"]["type"]
        view["result_metadata"] = []
        view["can_write"] = True
        return view

    def _find_card(self, ident: str) -> dict[str, Any]:
        if ident.isdigit() and int(ident) in self.cards:
            return self.cards[int(ident)]
        if len(ident) == 21:
            for c in self.cards.values():
                if c["entity_id"] == ident:
                    return c
        raise ApiError(404, "Not found.")

    def _check_card_fields(self, body: dict[str, Any], partial: bool) -> None:
        required = ("name", "dataset_query", "display", "visualization_settings")
        for key in required:
            if not partial and key not in body:
                raise bad(key, "value is required")
        if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
            raise bad("name", "value must be a non-blank string.")
        if "display" in body and not isinstance(body["display"], str):
            raise bad("display", "value must be a non-blank string.")
        if "visualization_settings" in body and not isinstance(
            body["visualization_settings"], dict
        ):
            raise bad("visualization_settings", "value must be a map.")
        if "type" in body and body["type"] not in ("question", "model", "metric"):
            raise bad("type", "value must be one of question, model, metric")
        cid = body.get("collection_id")
        if cid is not None and cid not in self.collections:
            raise bad("collection_id", "collection does not exist")

    def _r_card(self, method: str, seg: list[str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        if not seg and method == "POST":
            body = body or {}
            self._check_card_fields(body, partial=False)
            # CardCreateSchema lists entity_id, but create-card! (models/card.clj) keeps only the
            # card's data keys and assigns (u/generate-nano-id): a client entity_id is ignored
            entity_id = nanoid()
            dq = self._normalize_query(body["dataset_query"])
            card_id = next(self.ids)
            card = {
                "id": card_id,
                "entity_id": entity_id,
                "name": body["name"],
                "description": body.get("description"),
                "collection_id": body.get("collection_id"),
                "home_collection_id": body.get("collection_id"),
                "dataset_query": dq,
                "display": body["display"],
                "visualization_settings": body["visualization_settings"],
                "type": body.get("type", "question"),
                "archived": False,
                "parameters": body.get("parameters") or self._card_params(dq),
            }
            self.cards[card_id] = card
            self.stats["cards_created"] += 1
            return 200, self._card_view(card)
        if not seg:
            raise ApiError(404, "API endpoint does not exist.")
        card = self._find_card(seg[0])
        if method == "GET":
            return 200, self._card_view(card)
        if method == "PUT":
            body = body or {}
            self._check_card_fields(body, partial=True)
            if "dataset_query" in body:
                card["dataset_query"] = self._normalize_query(body["dataset_query"])
                if "parameters" not in body:
                    card["parameters"] = self._card_params(card["dataset_query"])
            for key in (
                "name",
                "description",
                "display",
                "visualization_settings",
                "type",
                "parameters",
            ):
                if key in body:
                    card[key] = body[key]
            if "collection_id" in body:
                card["home_collection_id"] = body["collection_id"]
                card["collection_id"] = body["collection_id"]
            if "archived" in body:
                card["archived"] = bool(body["archived"])
                card["collection_id"] = TRASH_ID if card["archived"] else card["home_collection_id"]
            self.stats["card_updates"] += 1
            return 200, self._card_view(card)
        if method == "DELETE":
            del self.cards[card["id"]]
            for d in self.dashboards.values():
                d["dashcards"] = [dc for dc in d["dashcards"] if dc["card_id"] != card["id"]]
            return 204, None
        raise ApiError(404, "API endpoint does not exist.")

    # ------------------------------------------------------------------ dashboards
    def _dash_view(self, d: dict[str, Any]) -> dict[str, Any]:
        view = copy.deepcopy(d)
        view["tabs"] = sorted(view["tabs"], key=lambda t: t["position"])
        self.rng.shuffle(view["dashcards"])  # unstable order, as in Metabase
        view["collection_id"] = TRASH_ID if d["archived"] else d["collection_id"]
        return view

    def _r_dashboard(
        self, method: str, seg: list[str], q: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if not seg and method == "POST":
            body = body or {}
            if not isinstance(body.get("name"), str) or not body["name"].strip():
                raise bad("name", "value must be a non-blank string.")
            for forbidden in ("dashcards", "tabs"):
                if forbidden in body:
                    raise bad(forbidden, "cannot be set on create; PUT them afterwards")
            cid = body.get("collection_id")
            if cid is not None and cid not in self.collections:
                raise bad("collection_id", "collection does not exist")
            did = next(self.ids)
            d = {
                "id": did,
                "entity_id": nanoid(),
                "name": body["name"],
                "description": body.get("description"),
                "collection_id": cid,
                "collection_position": body.get("collection_position"),
                "parameters": body.get("parameters") or [],
                "archived": False,
                # POST /api/dashboard reads name, description, parameters, cache_ttl,
                # collection_id, collection_position only: ``width`` starts "fixed"
                "width": "fixed",
                "tabs": [],
                "dashcards": [],
            }
            self.dashboards[did] = d
            self.stats["dashboards_created"] += 1
            return 200, self._dash_view(d)
        if not seg:
            raise ApiError(404, "API endpoint does not exist.")
        d = self.dashboards.get(int(seg[0])) if seg[0].isdigit() else None
        if d is None:
            raise ApiError(404, "Not found.")
        if method == "GET":
            return 200, self._dash_view(d)
        if method == "DELETE":
            del self.dashboards[d["id"]]
            return 204, None
        if method == "PUT":
            self._dash_update(d, body or {})
            return 200, self._dash_view(d)
        raise ApiError(404, "API endpoint does not exist.")

    def _dash_update(self, d: dict[str, Any], body: dict[str, Any]) -> None:
        if "dashcards" in body:
            # api/dashboard.clj update-dashboard: a layout change checks the dashboard as it was
            # before this PUT (api/check-not-archived), so {"archived": false} in the same body
            # does not help; the transaction rolls back, nothing is applied
            if d["archived"]:
                raise ApiError(
                    404, {"message": "The object has been archived.", "error_code": "archived"}
                )
            # ... and while the dashboard HAS tabs, every dashcard must name one: removing every
            # tab and keeping cards in one PUT is refused
            if d["tabs"] and not all(
                isinstance(dc, dict) and dc.get("dashboard_tab_id") is not None
                for dc in body["dashcards"] or []
            ):
                raise ApiError(
                    400, {"message": "This dashboard has tab, makes sure every card has a tab"}
                )
        if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
            raise bad("name", "value must be a non-blank string.")
        if (
            "collection_id" in body
            and body["collection_id"] is not None
            and body["collection_id"] not in self.collections
        ):
            raise bad("collection_id", "collection does not exist")
        new_tabs, tab_map = d["tabs"], {t["id"]: t["id"] for t in d["tabs"]}
        if "tabs" in body or "dashcards" in body:
            new_tabs, tab_map = self._replace_tabs(
                d, body.get("tabs", []) if "tabs" in body else []
            )
        if "dashcards" in body:
            dashcards = self._replace_dashcards(d, body["dashcards"], new_tabs, tab_map)
        else:
            live_tabs = {t["id"] for t in new_tabs}
            dashcards = [
                dc for dc in d["dashcards"] if dc["dashboard_tab_id"] in live_tabs or not new_tabs
            ]
        for key in (
            "name",
            "description",
            "collection_id",
            "collection_position",
            "parameters",
            "width",
        ):
            if key in body:
                d[key] = body[key]
        if "archived" in body:
            d["archived"] = bool(body["archived"])
        removed_tabs = {t["id"] for t in d["tabs"]} - {t["id"] for t in new_tabs}
        self.stats["tabs_deleted"] += len(removed_tabs)
        d["tabs"], d["dashcards"] = new_tabs, dashcards
        self.stats["dashboard_updates"] += 1

    def _replace_tabs(
        self, d: dict[str, Any], tabs: Any
    ) -> tuple[list[dict[str, Any]], dict[int, int]]:
        if not isinstance(tabs, list):
            raise bad("tabs", "value must be a sequence")
        existing = {t["id"]: t for t in d["tabs"]}
        out, mapping = [], {}
        for pos, tab in enumerate(tabs):
            if (
                not isinstance(tab, dict)
                or not isinstance(tab.get("id"), int)
                or not tab.get("name")
            ):
                raise bad("tabs", "each tab needs an integer id and a name")
            if tab["id"] < 0:
                tid = next(self.ids)
                self.stats["tabs_created"] += 1
                out.append(
                    {
                        "id": tid,
                        "name": tab["name"],
                        "position": pos,
                        "entity_id": nanoid(),
                        "dashboard_id": d["id"],
                    }
                )
            elif tab["id"] in existing:
                tid = tab["id"]
                out.append({**existing[tid], "name": tab["name"], "position": pos})
            else:
                raise bad("tabs", f"tab {tab['id']} is not on this dashboard")
            mapping[tab["id"]] = tid
        return out, mapping

    def _replace_dashcards(
        self, d: dict[str, Any], dashcards: Any, tabs: list[dict[str, Any]], tab_map: dict[int, int]
    ) -> list[dict[str, Any]]:
        if not isinstance(dashcards, list):
            raise bad("dashcards", "value must be a sequence")
        existing = {dc["id"]: dc for dc in d["dashcards"]}
        out = []
        for dc in dashcards:
            if not isinstance(dc, dict) or not isinstance(dc.get("id"), int):
                raise bad("dashcards", "each dashcard needs an integer id")
            for key, minimum in (("size_x", 1), ("size_y", 1), ("row", 0), ("col", 0)):
                if not isinstance(dc.get(key), int) or dc[key] < minimum:
                    raise bad("dashcards", f"{key} must be an integer >= {minimum}")
            card_id = dc.get("card_id")
            if card_id is not None:
                card = self.cards.get(card_id)
                if card is None or card["archived"]:
                    raise bad("dashcards", f"card {card_id} does not exist or is archived")
            elif not (dc.get("visualization_settings") or {}).get("virtual_card"):
                raise bad(
                    "dashcards",
                    "a dashcard without card_id needs visualization_settings.virtual_card",
                )
            tab_id = dc.get("dashboard_tab_id")
            if tab_id is not None:
                if tab_id not in tab_map:
                    raise bad("dashcards", f"dashboard_tab_id {tab_id} does not exist")
                tab_id = tab_map[tab_id]
            series = [s["id"] if isinstance(s, dict) else s for s in dc.get("series") or []]
            fields = {
                "card_id": card_id,
                "dashboard_tab_id": tab_id,
                "row": dc["row"],
                "col": dc["col"],
                "size_x": dc["size_x"],
                "size_y": dc["size_y"],
                "parameter_mappings": dc.get("parameter_mappings") or [],
                "visualization_settings": dc.get("visualization_settings") or {},
                "series": [
                    {"id": s, "name": self.cards[s]["name"]} for s in series if s in self.cards
                ],
            }
            if dc["id"] < 0:
                did = next(self.ids)
                self.stats["dashcards_created"] += 1
                out.append({"id": did, "dashboard_id": d["id"], **fields})
            elif dc["id"] in existing:
                out.append({**existing[dc["id"]], **fields})
            else:
                raise bad("dashcards", f"dashcard {dc['id']} is not on this dashboard")
        kept = {dc["id"] for dc in out}
        self.stats["dashcards_deleted"] += len([i for i in existing if i not in kept])
        return out

    # ------------------------------------------------------------------ permissions
    def _r_permissions(
        self, method: str, seg: list[str], q: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if seg and seg[0] == "graph":
            if method == "GET":
                return 200, self._data_graph_view()
            if method == "PUT":
                return self._data_graph_put(body)
            raise ApiError(404, "API endpoint does not exist.")
        if not seg or seg[0] != "group":
            raise ApiError(404, "API endpoint does not exist.")
        if len(seg) == 1:
            if method == "GET":
                return 200, [dict(g, member_count=0) for g in self.groups.values()]
            if method == "POST":
                name = (body or {}).get("name")
                if not isinstance(name, str) or not name.strip():
                    raise bad("name", "value must be a non-blank string.")
                # permissions_group.clj before-insert: check-name-not-already-taken
                if any(g["name"] == name for g in self.groups.values()):
                    raise ApiError(400, {"message": "A group with that name already exists."})
                gid = next(self.ids)
                self.groups[gid] = {"id": gid, "name": name}
                self._grant_new_group(gid)
                self.stats["groups_created"] += 1
                return 200, self.groups[gid]
        group = self.groups.get(int(seg[1])) if seg[1].isdigit() else None
        if group is None:
            raise ApiError(404, "Not found.")
        if method == "GET":
            return 200, dict(group, members=[])
        if method == "PUT":
            if group["id"] in (ALL_USERS_GROUP, ADMIN_GROUP):
                raise ApiError(400, "You cannot edit or delete the magic permissions groups.")
            group["name"] = (body or {}).get("name") or group["name"]
            return 200, group
        if method == "DELETE":
            if group["id"] in (ALL_USERS_GROUP, ADMIN_GROUP):
                raise ApiError(400, "You cannot edit or delete the magic permissions groups.")
            del self.groups[group["id"]]
            self.data_perms.pop(str(group["id"]), None)
            self.coll_perms.pop(str(group["id"]), None)
            return 204, None
        raise ApiError(404, "API endpoint does not exist.")

    @staticmethod
    def _data_api_value(perms: dict[str, str]) -> dict[str, Any]:
        """One group/database in API shape, every least-permissive value left out
        (data_permissions/graph.clj ``ellide?`` + ``remove-empty-vals``)."""
        out: dict[str, Any] = {}
        for key, value in perms.items():
            if value == LEAST_DATA[key]:
                continue
            out[key] = {"schemas": value} if key in SCHEMAS_KEYS else value
        return out

    def _data_graph_view(self, group_ids: set[str] | None = None) -> dict[str, Any]:
        groups: dict[str, Any] = {}
        for gid, dbs in self.data_perms.items():
            if group_ids is not None and gid not in group_ids:
                continue
            view = {db: v for db, p in dbs.items() if (v := self._data_api_value(p))}
            if view:
                groups[gid] = view
        if group_ids is None or str(ADMIN_GROUP) in group_ids:
            # add-admin-perms-to-permissions-graph: not stored, always reported
            groups[str(ADMIN_GROUP)] = {
                str(db): {
                    "view-data": "unrestricted",
                    "create-queries": "query-builder-and-native",
                    "download": {"schemas": "full"},
                    "data-model": {"schemas": "all"},
                    "details": "yes",
                }
                for db in self.databases
            }
        return {"revision": self.data_revision, "groups": groups}

    def _check_revision(self, kind: str, body: dict[str, Any]) -> None:
        if body.get("revision") != getattr(self, f"{kind}_revision"):
            raise ApiError(
                409,
                "Looks like someone else edited the permissions and your data is out of date. "
                "Please fetch new data and try again.",
            )

    def _data_graph_put(self, body: Any) -> tuple[int, Any]:
        """PUT /api/permissions/graph (permissions/api.clj): revision checked, then only the
        permission types present for each group/database are set; every PUT saves a new
        revision, changed or not."""
        body = body or {}
        self._check_revision("data", body)
        changes: list[tuple[str, str, str, str]] = []
        for gid, dbs in (body.get("groups") or {}).items():
            if not gid.isdigit() or int(gid) not in self.groups:
                raise bad("groups", f"group {gid} does not exist")
            if int(gid) == ADMIN_GROUP:
                raise ApiError(400, "You cannot edit permissions for the Administrators group.")
            for db, value in (dbs or {}).items():
                if not isinstance(value, dict):
                    raise bad("groups", f"invalid data permission {value!r} for group {gid} / {db}")
                if not db.isdigit() or int(db) not in self.databases:
                    raise bad("groups", f"database {db} does not exist")
                for key, raw in value.items():
                    level = (
                        raw.get("schemas") if key in SCHEMAS_KEYS and isinstance(raw, dict) else raw
                    )
                    if key not in DATA_VALUES or level not in DATA_VALUES[key]:
                        raise ApiError(
                            400,
                            "Cannot parse permissions graph because it is invalid: "
                            f"{gid} {db} {key} {raw!r}",
                        )
                    if level == "blocked" and "advanced-permissions" not in self.premium_features:
                        # graph.clj update-db-level-view-data-permissions!: ee-permissions-exception
                        raise ApiError(
                            402,
                            "The blocked permissions functionality is only enabled if you have a "
                            "premium token with the advanced-permissions feature.",
                        )
                    changes.append((gid, db, key, level))
        for gid, db, key, level in changes:
            perms = self.data_perms.setdefault(gid, {}).setdefault(db, dict(LEAST_DATA))
            perms[key] = level
            if key == "view-data" and level == "blocked":
                perms["create-queries"], perms["download"] = "no", "none"
        self.data_revision += 1
        self.stats["data_graph_puts"] += 1
        sent = {str(g) for g in (body.get("groups") or {})}
        return 200, self._data_graph_view(sent)

    def _coll_graph_view(self) -> dict[str, Any]:
        """Sparse graph (collection/graph.clj ``graph``, 0.56.13+): only read/write entries, no
        archived collections; Administrators write everything."""
        live = {str(c["id"]) for c in self.collections.values() if not c["archived"]}
        groups: dict[str, dict[str, str]] = {}
        for gid, objs in self.coll_perms.items():
            view = {o: v for o, v in objs.items() if o == "root" or o in live}
            if view:
                groups[gid] = view
        groups[str(ADMIN_GROUP)] = {"root": "write", **{c: "write" for c in sorted(live)}}
        return {"revision": self.collection_revision, "groups": groups}

    def _coll_graph_put(self, body: Any) -> tuple[int, Any]:
        body = body or {}
        self._check_revision("collection", body)
        changes = []
        for gid, objs in (body.get("groups") or {}).items():
            if not gid.isdigit() or int(gid) not in self.groups:
                raise bad("groups", f"group {gid} does not exist")
            if int(gid) == ADMIN_GROUP:
                raise ApiError(400, "You cannot edit permissions for the Administrators group.")
            for obj, value in (objs or {}).items():
                if value not in ("read", "write", "none"):
                    raise bad("groups", f"invalid collection permission {value!r}")
                if obj != "root" and (not obj.isdigit() or int(obj) not in self.collections):
                    raise bad("groups", f"collection {obj} does not exist")
                changes.append((gid, obj, value))
        for gid, obj, value in changes:
            if value == "none":
                self.coll_perms.get(gid, {}).pop(obj, None)
            else:
                self.coll_perms.setdefault(gid, {})[obj] = value
        self.collection_revision += 1
        self.stats["collection_graph_puts"] += 1
        return 200, self._coll_graph_view()

    def _inherit_collection_perms(self, cid: int, parent_id: int | None) -> None:
        """A new collection copies its parent's grants (collections/models/collection.clj
        ``copy-parent-permissions!``): under a root that All Users may curate, a new top-level
        collection is writable by every user until the graph says otherwise."""
        parent = "root" if parent_id is None else str(parent_id)
        for objs in self.coll_perms.values():
            if parent in objs:
                objs[str(cid)] = objs[parent]

    # ------------------------------------------------------------------ settings
    def _r_setting(
        self, method: str, seg: list[str], q: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        """GET/PUT /api/setting/:key (src/metabase/settings/api.clj: PUT {"value": v} → 204)."""
        if len(seg) != 1:
            raise ApiError(404, "API endpoint does not exist.")
        key = seg[0]
        if method == "GET":
            return 200, self.settings.get(key)
        if method == "PUT":
            if not isinstance(body, dict) or "value" not in body:
                raise bad("value", "value is required")
            self.settings[key] = body["value"]
            self.stats[f"setting:{key}"] += 1
            return 204, None
        raise ApiError(404, "API endpoint does not exist.")


def _parent(location: str) -> int | None:
    parts = [p for p in location.split("/") if p]
    return int(parts[-1]) if parts else None


class _Handler(BaseHTTPRequestHandler):
    state: MetabaseDouble
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms stalls

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        st = self.state
        path = urlsplit(self.path).path
        with st.lock:
            st.requests.append((method, re.sub(r"\?.*", "", path)))
            fault = None
            if path.startswith("/api/") and path != "/api/health":
                fault = st.faults.pick(method, path)
        if st.latency:
            with st.lock:
                st.in_flight += 1
                st.max_in_flight = max(st.max_in_flight, st.in_flight)
            time.sleep(st.latency)
            with st.lock:
                st.in_flight -= 1
        if fault == "502-before":
            return self._send(502, "<html><body>502 Bad Gateway</body></html>", html=True)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self._send(400, "Malformed JSON body")
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload = st.handle(method, self.path, body, headers)
        if fault == "502-after":
            return self._send(502, "<html><body>502 Bad Gateway</body></html>", html=True)
        if fault == "drop-after":
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(2)
            return None
        html = isinstance(payload, str) and payload.lstrip().startswith("<")
        return self._send(status, payload, html=html)

    def _send(self, status: int, payload: Any, html: bool = False) -> None:
        if payload is None:
            data, ctype = b"", "application/json"
        elif html:
            data, ctype = payload.encode(), "text/html;charset=utf-8"
        else:
            data, ctype = json.dumps(payload).encode(), "application/json;charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")
