"""Shared machinery for the Metabase dynamic providers.

Credentials reach a provider in two ways, resolved field by field (input first, then config):

1. the ``connection`` input (``{"url", "email", "password" | "api_key"}``), which the Resource
   constructors wrap in ``Output.secret`` and list in ``additional_secret_outputs``; and
2. ``configure``: stack config ``mfb-analytics:metabaseUrl``, ``metabaseAdminEmail``,
   ``metabaseAdminPassword`` (secret), ``metabaseApiKey`` (secret). Pulumi calls ``configure`` in
   the provider process after unpickling, so nothing read there is ever pickled into state.

Provider instances hold no client: ``client_for`` keeps one logged-in client per process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, DiffResult, ResourceProvider

from components._dynamic import is_unknown

from .client import Credentials, MetabaseClient, MetabaseConfigError, client_for
from .normalize import same

LOG = logging.getLogger("mfb.metabase")

CONFIG_KEYS = {
    "url": "metabaseUrl",
    "email": "metabaseAdminEmail",
    "password": "metabaseAdminPassword",
    "api_key": "metabaseApiKey",
}
CONNECTION_FIELDS = ("url", "email", "password", "api_key")


def progress(message: str) -> None:
    """Visible progress: the engine's log when there is one, else the logging module."""
    LOG.info(message)
    try:
        from pulumi.runtime.settings import get_engine

        if get_engine() is not None:
            pulumi.log.info(message)
    except Exception:
        pass


@dataclass
class MetabaseConnection:
    """What a component passes to every Metabase resource (all fields may be Outputs).

    Leave a field ``None`` to use the stack config key instead (see module docstring).
    """

    url: pulumi.Input[str] | None = None
    email: pulumi.Input[str] | None = None
    password: pulumi.Input[str] | None = field(default=None, repr=False)
    api_key: pulumi.Input[str] | None = field(default=None, repr=False)

    def as_input(self) -> pulumi.Output[dict[str, Any]]:
        values = {k: getattr(self, k) for k in CONNECTION_FIELDS if getattr(self, k) is not None}
        return pulumi.Output.secret(values)


def connection_input(conn: MetabaseConnection | Mapping[str, Any] | None) -> Any:
    if conn is None:
        return pulumi.Output.secret({})
    if isinstance(conn, MetabaseConnection):
        return conn.as_input()
    return pulumi.Output.secret(dict(conn))


def secret_opts(
    opts: pulumi.ResourceOptions | None, secret_outputs: Iterable[str]
) -> pulumi.ResourceOptions:
    extra = pulumi.ResourceOptions(additional_secret_outputs=list(secret_outputs))
    return pulumi.ResourceOptions.merge(opts or pulumi.ResourceOptions(), extra)


class MetabaseProvider(ResourceProvider):
    """Base provider: credentials, validation plumbing and a generic normalized ``diff``."""

    serialize_as_secret_always = True
    #: inputs compared by ``diff`` (after ``comparable``)
    managed: tuple[str, ...] = ()
    #: inputs whose change needs a new object
    replace_on: tuple[str, ...] = ()
    #: outputs that must be secret (also passed as additional_secret_outputs)
    secret_outputs: tuple[str, ...] = ("connection",)

    def __init__(self) -> None:
        super().__init__()
        self._configured: dict[str, Any] = {}

    # ------------------------------------------------------------------ credentials
    def configure(self, req: ConfigureRequest) -> None:
        self._configured = {
            name: req.config.get(key)
            for name, key in CONFIG_KEYS.items()
            if req.config.get(key) not in (None, "")
        }

    def credentials(self, props: Mapping[str, Any]) -> Credentials:
        conn = props.get("connection") or {}
        configured = getattr(self, "_configured", {}) or {}
        env = {
            "url": os.environ.get("METABASE_URL"),
            "email": os.environ.get("METABASE_ADMIN_EMAIL"),
            "password": os.environ.get("METABASE_ADMIN_PASSWORD"),
            "api_key": os.environ.get("METABASE_API_KEY"),
        }
        values = {}
        for name in CONNECTION_FIELDS:
            value = conn.get(name) or configured.get(name)
            values[name] = value if value else None
        if not values["url"] and not any(values[k] for k in ("email", "password", "api_key")):
            values = {k: env[k] for k in CONNECTION_FIELDS}  # CLI/test fallback only
        if not values["url"]:
            from .client import MetabaseConfigError

            raise MetabaseConfigError(
                "Metabase URL missing: pass connection.url or set mfb-analytics:metabaseUrl"
            )
        return Credentials(**values)

    def client(self, props: Mapping[str, Any]) -> MetabaseClient:
        return client_for(self.credentials(props))

    # ------------------------------------------------------------------ check
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = dict(news)
        for key, default in self.defaults().items():
            if inputs.get(key) is None:
                inputs[key] = default
        failures = [CheckFailure(p, r) for p, r in self.validate(inputs)]
        return CheckResult(inputs, failures)

    def defaults(self) -> dict[str, Any]:
        return {}

    def validate(self, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        return []

    # ------------------------------------------------------------------ diff
    def comparable(self, key: str, value: Any, props: Mapping[str, Any]) -> Any:
        """Normalize one managed value for comparison (override per kind)."""
        return value

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes: list[str] = []
        for key in self.managed:
            new = news.get(key)
            if is_unknown(new):
                changes.append(key)
                continue
            old_c = self.comparable(key, olds.get(key), olds)
            new_c = self.comparable(key, new, news)
            if not same(old_c, new_c):
                changes.append(key)
        if self._connection_changed(olds, news):
            changes.append("connection")
        replaces = [k for k in changes if k in self.replace_on]
        stables = [k for k in self.managed if k not in changes]
        return DiffResult(
            changes=bool(changes),
            replaces=replaces,
            stables=stables,
            delete_before_replace=False,
        )

    @staticmethod
    def _connection_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        new = news.get("connection")
        if is_unknown(new):
            return False  # a URL from another resource during preview: not a change by itself
        return not same(olds.get("connection") or {}, new or {})


def require_fields(
    news: Mapping[str, Any], fields: Iterable[str], kind: str
) -> list[tuple[str, str]]:
    failures = []
    for name in fields:
        value = news.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            failures.append((name, f"{kind}.{name} is required and must not be blank"))
    return failures


def check_type(
    news: Mapping[str, Any], name: str, types: type | tuple[type, ...], kind: str, what: str
) -> list[tuple[str, str]]:
    value = news.get(name)
    if value is None or is_unknown(value):
        return []
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        return [(name, f"{kind}.{name} must be {what}, got {value!r}")]
    if not isinstance(value, types):
        return [(name, f"{kind}.{name} must be {what}, got {type(value).__name__} {value!r}")]
    return []


def adopt_by_id(client: Any, path: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """The object ``props['adopt_id']`` names (stack config ``metabaseAdopt``), or None when no
    id is given. A given id that Metabase does not hold is an error, not a fresh create."""
    wanted = as_int_id(props.get("adopt_id"))
    if not wanted:
        return None
    found = client.get_or_none(f"{path}/{wanted}")
    if not isinstance(found, dict):
        raise MetabaseConfigError(
            f"metabaseAdopt: Metabase has no {path} with id {wanted} to adopt for "
            f"{props.get('name')!r}; correct the id (GET /api/{path}/<id>) or remove the entry"
        )
    return found


def as_int_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value  # let validation complain
