"""Normalization for ``diff`` and ``read``: compare what the program manages, as Metabase means it.

Metabase rewrites what it stores: it adds keys to ``dataset_query`` and template tags, answers
dashcards in no stable order, redacts secrets as ``**MetabasePass**`` and adds defaults to
database ``details``. Everything here is pure (no HTTP) so it is cheap to test.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "**MetabasePass**"


def strip_none(value: Any) -> Any:
    """Drop ``None``-valued keys recursively (Metabase omits or nulls unset keys at will)."""
    if isinstance(value, Mapping):
        return {str(k): strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [strip_none(v) for v in value]
    return value


def canonical(value: Any) -> str:
    """A stable text form for equality checks (sorted keys, None-free, ints not floats)."""
    return json.dumps(_numbers(strip_none(value)), sort_keys=True, separators=(",", ":"))


def _numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    return canonical(a) == canonical(b)


def project(live: Any, declared: Any) -> Any:
    """``live`` restricted to the keys ``declared`` has (recursively for dicts).

    Used where Metabase adds keys we do not manage (template-tag ids, visualization defaults).
    Lists are projected element-wise when both sides have the same length.
    """
    if isinstance(declared, Mapping) and isinstance(live, Mapping):
        return {k: project(live.get(k), v) for k, v in declared.items() if v is not None}
    if (
        isinstance(declared, list)
        and isinstance(live, list)
        and len(declared) == len(live)
        and all(isinstance(d, Mapping) for d in declared)
    ):
        return [project(lv, dv) for lv, dv in zip(live, declared, strict=True)]
    return live


def normalize_sql(sql: str | None) -> str:
    """Line endings and trailing whitespace do not matter to Metabase or to readers."""
    if not sql:
        return ""
    lines = sql.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def template_tags_map(tags: Any) -> dict[str, dict[str, Any]]:
    """Template tags as ``{name: tag}`` whether Metabase answered a map or a list."""
    if isinstance(tags, Mapping):
        return {str(k): dict(v) for k, v in tags.items() if isinstance(v, Mapping)}
    if isinstance(tags, list):
        return {str(t.get("name")): dict(t) for t in tags if isinstance(t, Mapping)}
    return {}


def native_query_of(dataset_query: Any) -> tuple[Any, str, dict[str, dict[str, Any]]]:
    """``(database_id, sql, template_tags)`` from legacy MBQL or MBQL 5 (``stages``)."""
    if not isinstance(dataset_query, Mapping):
        return None, "", {}
    database = dataset_query.get("database")
    native = dataset_query.get("native")
    if isinstance(native, Mapping):
        return (
            database,
            str(native.get("query") or ""),
            template_tags_map(native.get("template-tags") or native.get("template_tags")),
        )
    stages = dataset_query.get("stages")
    if isinstance(stages, list) and stages and isinstance(stages[0], Mapping):
        stage = stages[0]
        return (
            database,
            str(stage.get("native") or ""),
            template_tags_map(stage.get("template-tags")),
        )
    return database, "", {}


def native_dataset_query(database_id: int, sql: str, tags: Mapping[str, Any]) -> dict[str, Any]:
    """The legacy-MBQL native query body Metabase 0.56 accepts on ``POST/PUT /api/card``."""
    full_tags = {}
    for name, tag in tags.items():
        full = {"name": name, "display-name": name.replace("_", " ").title(), "type": "text"}
        full.update(dict(tag))
        full_tags[name] = full
    return {
        "database": database_id,
        "type": "native",
        "native": {"query": sql, "template-tags": full_tags},
    }


def comparable_tags(live: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
    """Live template tags projected onto the declared keys; extra live tags kept whole."""
    out: dict[str, Any] = {}
    for name, tag in live.items():
        out[name] = project(tag, declared[name]) if name in declared else tag
    return out


def details_view(live: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
    """Live database ``details`` restricted to the declared (non-secret) keys."""
    return {k: live.get(k) for k in declared if live.get(k) != REDACTED}


def fingerprint(secrets: Mapping[str, Any] | None, salt: str) -> str:
    """A keyed digest of secret values, so state can tell a rotation without holding them."""
    if not secrets:
        return ""
    material = salt + "\0" + canonical(secrets)
    return hashlib.sha256(material.encode()).hexdigest()


def sort_dashcards(
    dashcards: Iterable[Mapping[str, Any]], tab_order: Mapping[Any, int]
) -> list[dict[str, Any]]:
    """Dashcards in Metabase's visual order: (tab position, row, col)."""

    def key(dc: Mapping[str, Any]) -> tuple[int, int, int]:
        tab = tab_order.get(dc.get("tab"), 0) if dc.get("tab") is not None else -1
        return tab, int(dc.get("row") or 0), int(dc.get("col") or 0)

    return [dict(dc) for dc in sorted(dashcards, key=key)]


def changed_keys(
    olds: Mapping[str, Any], news: Mapping[str, Any], keys: Iterable[str]
) -> list[str]:
    """Keys whose canonical values differ between old outputs and new inputs."""
    return [k for k in keys if not same(olds.get(k), news.get(k))]
