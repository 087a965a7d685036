"""Metabase content definitions: load `dashboards/content/*.yaml` + `dashboards/sql/*.sql`,
validate them, and render the concrete objects of one stack (global scope + one per tenant).

Pure: no Pulumi, no network. `load_definitions()` returns validated models (a bad file raises
`DefinitionError` naming the file and the field); `render(defs, cfg)` returns a `ContentPlan` of
plain dataclasses that `MetabaseContent` turns into provider resources and the tests inspect.

SQL conventions (see dashboards/content/parameters.yaml):
- Postgres cards read `analytics.<mart>`; `analytics` becomes the stack's databaseSchema.
- Filter slots `[[AND {{date}}]]`, `[[AND {{partner}}]]`, `[[AND {{county}}]]`, `[[AND {{utm}}]]`
  sit in every query block that reads the filter table (mart_screener_data, unaliased: Metabase
  writes a field filter's predicate on `"<schema>"."mart_screener_data"."<column>"`). A slot
  renders to one optional clause per dashboard parameter bound to it: `[[AND {{partner}}]]` for
  a field filter (template tag `type: dimension`, declared by name as
  `field: [schema, table, column]`; the Card provider resolves the field id), a comparison for a
  plain variable, or a fixed predicate for `window_days` cards. Cards on other marts apply the
  filters through a "screens in S" subquery on mart_screener_data. Optional clauses whose
  variables are not parameters of the scope's dashboards are dropped (global cards therefore
  carry no `[[ ]]` at all).
- BigQuery cards use `__BQ__.<mart>` and `__STATE_FILTER__` (the scope's GA state codes; on
  the global scope the codes of tenants with feature `ga_in_global`, "G6" in the inventory).
  `__STATE_FILTER_NULL__` also keeps rows with no state on the global scope ("G6∅") and
  `__STATE_FILTER_NOT_CESN__` further drops CESN rows (`is_cesn`, "G6∅¬C"); on a tenant both
  equal `__STATE_FILTER__`. `__GA_EPOCH__` is the first day GA4 cards read (GA_EPOCH).
- `__NAME__` placeholders are column names bound per card (`bind:` in cards.yaml), so one query
  serves several cards; only plain lower-case column names can be bound.

Scopes: global, one per tenant, and one per referrer overlay (overlays.yaml) whose tenant the
stack deploys; an overlay's cards run on that tenant's database. Per-tenant differences are
features (features.yaml): `requires: [name]` / `[!name]` on cards, rows, items, tab names and
parameters. Layout: see the header of dashboards/content/dashboards/tenant.yaml.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = REPO / "dashboards"
GRID_COLUMNS = 24
GLOBAL = "global"
DERIVED_FEATURES = ("ga", "ga_states", "bigquery")
TAG_NAMESPACE = uuid.UUID("6f1d7c1e-8a51-4d0b-9d0e-0d6b6b7a2f10")

OPTIONAL_CLAUSE_RE = re.compile(r"\[\[(.*?)\]\]", re.S)
VARIABLE_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
SLOT_RE = re.compile(r"\[\[\s*AND\s+\{\{\s*([A-Za-z_]+)\s*\}\}\s*\]\]", re.I)
PG_SCHEMA_RE = re.compile(r"\banalytics\.(mart_[a-z0-9_]+)\b")
BQ_TABLE_RE = re.compile(r"__BQ__\.([A-Za-z0-9_]+)")
BIND_RE = re.compile(r"__([A-Z][A-Z0-9_]*?)__")
BQ_SENTINELS = {"BQ", "STATE_FILTER", "STATE_FILTER_NULL", "STATE_FILTER_NOT_CESN", "GA_EPOCH"}
# The analytics epoch (upstream-content.md §0 "E"): the first full day every screener event,
# results-page impressions included, was recorded correctly in production.
GA_EPOCH = "2026-07-29"
IDENT_RE = r"^[a-z_][a-z0-9_]*$"

Display = Literal["table", "scalar", "bar", "row", "line", "area", "pie", "funnel", "combo"]
Engine = Literal["postgres", "bigquery"]
ScopeKind = Literal["global", "tenant", "overlay"]


class DefinitionError(ValueError):
    """A content definition is wrong; the message names the file, the field and the fix."""


# --------------------------------------------------------------------------------------------
# File models
# --------------------------------------------------------------------------------------------
class _Def(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseDef(_Def):
    key: str
    scope: ScopeKind
    name: str
    engine: Engine
    credential: Literal["admin", "tenant", "bigquery_key"]
    required_tables: list[str] = Field(min_length=1)
    requires: list[str] = Field(default_factory=list)
    #: tenant dashboards may show cards on this global database (their SQL filters to the
    #: tenant's own rows, e.g. GA state codes); a tenant card never falls back to a database
    #: that does not say so
    tenant_cards: bool = False

    @field_validator("tenant_cards")
    @classmethod
    def _shared(cls, v: bool, info: Any) -> bool:
        if v and (info.data.get("scope") != "global" or info.data.get("engine") == "postgres"):
            raise ValueError(
                "tenant_cards is for a global non-Postgres database only: the global Postgres "
                "connection logs in as the owner, which row-level security does not bind"
            )
        return v

    @field_validator("credential")
    @classmethod
    def _cred(cls, v: str, info: Any) -> str:
        scope = info.data.get("scope")
        if scope == "tenant" and v != "tenant":
            raise ValueError(
                "a tenant database must use credential 'tenant' (the tenant's own role); "
                "a broader login would bypass row-level security"
            )
        if scope == "global" and v == "tenant":
            raise ValueError("a global database has no tenant credential: use admin")
        return v


class DatabasesFile(_Def):
    databases: list[DatabaseDef]


class CollectionDef(_Def):
    key: str
    scope: ScopeKind
    name: str
    description: str | None = None


CreateQueries = Literal["query-builder-and-native", "query-builder", "no"]


class GroupDef(_Def):
    key: str
    scope: ScopeKind
    name: str
    collection_access: Literal["read", "write"]
    collections: Literal["all", "own"]
    create_queries: CreateQueries
    databases: Literal["all", "own", "none"]

    @field_validator("databases")
    @classmethod
    def _tenant_own(cls, v: str, info: Any) -> str:
        scope = info.data.get("scope")
        if scope == "tenant" and v != "own":
            raise ValueError("a tenant group may only be granted its own database ('own')")
        if scope == "overlay" and v != "none":
            raise ValueError(
                "an overlay group views saved cards only: databases must be 'none' (its cards "
                "read a tenant's database, which the tenant's own groups are granted)"
            )
        return v


class OverlayDef(_Def):
    """A referrer's view onto one tenant: its own collection, group and dashboard; its cards
    run on that tenant's database (the tenant's role, so RLS still applies) with the
    referrer's scope written into their SQL."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    tenant: str


class OverlaysFile(_Def):
    overlays: list[OverlayDef] = Field(default_factory=list)


class AllUsersDef(_Def):
    collection_access: Literal["none"]
    create_queries: Literal["no"]


class AccessFile(_Def):
    collections: list[CollectionDef]
    groups: list[GroupDef]
    all_users: AllUsersDef


class FeaturesFile(_Def):
    defaults: dict[str, bool]
    overrides: dict[str, dict[str, bool]] = Field(default_factory=dict)


class ParameterDef(_Def):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    type: Literal["date/single", "date/all-options", "string/=", "number/="]
    #: ``dimension`` = a Metabase field filter on ``<schema>.<filter_table>.<column>`` (Metabase
    #: renders the whole predicate); the others are plain variables compared with ``operator``
    tag_type: Literal["dimension", "date", "text", "number"]
    slot: str
    column: str = Field(pattern=IDENT_RE)
    operator: Literal["=", ">=", "<=", ">", "<"] | None = None
    values_card: str | None = None
    values_column: str | None = None
    requires: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _operator(self) -> ParameterDef:
        dimension = self.tag_type == "dimension"
        if dimension and self.operator is not None:
            raise ValueError(
                "operator: a field filter (tag_type: dimension) takes no operator: Metabase "
                "renders the whole predicate from the widget (e.g. column IN (...)); remove it"
            )
        if not dimension and self.operator is None:
            raise ValueError(
                "operator: a plain variable (tag_type date/text/number) needs an operator "
                "(= >= <= > <)"
            )
        return self


class ParametersFile(_Def):
    filter_table: str
    parameters: list[ParameterDef]


class CardDef(_Def):
    name: str
    sql: str
    display: Display
    engine: Engine = "postgres"
    description: str | None = None
    requires: list[str] = Field(default_factory=list)
    window_days: int | None = Field(default=None, gt=0)
    percent: list[str] = Field(default_factory=list)
    currency: list[str] = Field(default_factory=list)
    mini_bar: list[str] = Field(default_factory=list)
    rate: list[str] = Field(default_factory=list)
    state_column: str = "state_code"
    bind: dict[str, str] = Field(default_factory=dict)
    visualization_settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("bind")
    @classmethod
    def _bind(cls, v: dict[str, str]) -> dict[str, str]:
        for name, column in v.items():
            if not re.match(r"^[A-Z][A-Z0-9_]*$", name) or name in BQ_SENTINELS:
                raise ValueError(
                    f"bind key {name!r}: use an UPPER_CASE name (written __{name}__ in the SQL), "
                    f"not {sorted(BQ_SENTINELS)}"
                )
            if not re.match(IDENT_RE, column):
                raise ValueError(
                    f"bind.{name}: {column!r} is not a plain lower-case column name; bind only "
                    "substitutes column names"
                )
        return v


class CardsFile(_Def):
    cards: dict[str, CardDef]


class ItemDef(_Def):
    card: str | None = None
    text: str | None = None
    width: int | None = Field(default=None, ge=1, le=GRID_COLUMNS)
    height: int | None = Field(default=None, ge=1)
    col: int | None = Field(default=None, ge=0, lt=GRID_COLUMNS)
    requires: list[str] = Field(default_factory=list)

    @field_validator("text")
    @classmethod
    def _one(cls, v: str | None, info: Any) -> str | None:
        if (v is None) == (info.data.get("card") is None):
            raise ValueError("an item needs exactly one of card or text")
        return v


class RowDef(_Def):
    height: int = Field(ge=1)
    requires: list[str] = Field(default_factory=list)
    items: list[ItemDef] = Field(min_length=1)


class TabNameDef(_Def):
    requires: list[str] = Field(min_length=1)
    name: str


class TabDef(_Def):
    key: str
    name: str
    names: list[TabNameDef] = Field(default_factory=list)
    requires: list[str] = Field(default_factory=list)
    rows: list[RowDef] = Field(min_length=1)

    def name_for(self, scope: Scope) -> str:
        """The first `names` entry whose requires the scope meets, else `name`."""
        for variant in self.names:
            if _requires_ok(variant.requires, scope):
                return variant.name
        return self.name


class DashboardDef(_Def):
    key: str
    scope: ScopeKind
    name: str
    description: str | None = None
    collection: str
    collection_position: int | None = None
    overlay: str | None = None
    parameters: list[str] = Field(default_factory=list)
    # cards made in the dashboard's collection without a place on it (the live system keeps
    # such saved questions there, e.g. "Completed Screens")
    unplaced: list[str] = Field(default_factory=list)
    tabs: list[TabDef] = Field(min_length=1)


@dataclass(frozen=True)
class Definitions:
    databases: DatabasesFile
    access: AccessFile
    features: FeaturesFile
    parameters: ParametersFile
    cards: CardsFile
    dashboards: dict[str, DashboardDef]  # file name -> dashboard
    sql: dict[str, str]  # file name -> text
    root: Path
    overlays: OverlaysFile = field(default_factory=OverlaysFile)

    @property
    def parameter_by_id(self) -> dict[str, ParameterDef]:
        return {p.id: p for p in self.parameters.parameters}

    @property
    def feature_names(self) -> set[str]:
        return set(self.features.defaults) | set(DERIVED_FEATURES)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise DefinitionError(f"{path}: missing content definition file") from None
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path}: not valid YAML: {exc}") from None


def _validate(model: type[BaseModel], path: Path, root: Path) -> Any:
    data = _read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        rel = path.relative_to(root) if path.is_relative_to(root) else path
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(file)"
            msg = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{rel}: {loc}: {msg}")
        raise DefinitionError("\n".join(lines)) from None


def load_definitions(root: Path = DASHBOARDS_DIR) -> Definitions:
    """Read and validate every definition file under `root` (dashboards/)."""
    content = root / "content"
    sql_dir = root / "sql"
    dashboards = {
        p.name: _validate(DashboardDef, p, root)
        for p in sorted((content / "dashboards").glob("*.yaml"))
    }
    sql = {p.name: p.read_text() for p in sorted(sql_dir.glob("*.sql"))}
    defs = Definitions(
        databases=_validate(DatabasesFile, content / "databases.yaml", root),
        access=_validate(AccessFile, content / "access.yaml", root),
        features=_validate(FeaturesFile, content / "features.yaml", root),
        parameters=_validate(ParametersFile, content / "parameters.yaml", root),
        cards=_validate(CardsFile, content / "cards.yaml", root),
        dashboards=dashboards,
        sql=sql,
        root=root,
        overlays=(
            _validate(OverlaysFile, content / "overlays.yaml", root)
            if (content / "overlays.yaml").exists()
            else OverlaysFile()
        ),
    )
    problems = cross_check(defs)
    if problems:
        raise DefinitionError("\n".join(problems))
    return defs


def cross_check(defs: Definitions) -> list[str]:
    """References between files: cards, SQL files, features, parameters, collections."""
    problems: list[str] = []
    features = defs.feature_names
    params = defs.parameter_by_id
    slots = {p.slot for p in defs.parameters.parameters}
    for key, card in defs.cards.cards.items():
        where = f"content/cards.yaml: cards.{key}"
        if card.sql not in defs.sql:
            problems.append(f"{where}.sql: no file dashboards/sql/{card.sql}")
        else:
            text = defs.sql[card.sql]
            used = set(BIND_RE.findall(text)) - BQ_SENTINELS
            for name in sorted(used - set(card.bind)):
                problems.append(
                    f"{where}.bind: {card.sql} uses __{name}__; bind it to a column "
                    f"(bind: {{{name}: <column>}})"
                )
            for name in sorted(set(card.bind) - used):
                problems.append(f"{where}.bind.{name}: {card.sql} has no __{name}__ to bind")
            for var in sorted(set(VARIABLE_RE.findall(text))):
                if var not in slots and var not in params:
                    problems.append(
                        f"{where}.sql: {card.sql} uses {{{{{var}}}}}, which is neither a filter "
                        f"slot ({sorted(slots)}) nor a parameter ({sorted(params)})"
                    )
            if card.engine == "postgres" and ("__BQ__" in text or "__STATE_FILTER__" in text):
                problems.append(f"{where}.sql: {card.sql} uses BigQuery sentinels on Postgres")
        for feat in card.requires:
            if _feature(feat) not in features:
                problems.append(f"{where}.requires: unknown feature {feat!r} ({sorted(features)})")
    for p in defs.parameters.parameters:
        for feat in p.requires:
            if _feature(feat) not in features:
                problems.append(
                    f"content/parameters.yaml: {p.id}.requires: unknown feature {feat!r}"
                )
        if p.values_card and p.values_card not in defs.cards.cards:
            problems.append(
                f"content/parameters.yaml: {p.id}.values_card: no card {p.values_card!r}"
            )
        if p.values_card and not p.values_column:
            problems.append(
                f"content/parameters.yaml: {p.id}.values_column: required with values_card"
            )
    for slug in defs.features.overrides:
        for feat in defs.features.overrides[slug]:
            if feat not in defs.features.defaults:
                problems.append(
                    f"content/features.yaml: overrides.{slug}.{feat}: unknown feature "
                    f"(declare it under defaults)"
                )
    collections = {(c.scope, c.key) for c in defs.access.collections}
    overlays = {o.key for o in defs.overlays.overlays}
    for n, o in enumerate(defs.overlays.overlays):
        if o.key == GLOBAL:
            problems.append(f"content/overlays.yaml: overlays.{n}.key: {GLOBAL!r} is reserved")
    for fname, dash in defs.dashboards.items():
        where = f"content/dashboards/{fname}"
        if dash.scope == "overlay" and dash.overlay not in overlays:
            problems.append(
                f"{where}: overlay: an overlay dashboard names its overlay in overlays.yaml "
                f"({sorted(overlays)}), got {dash.overlay!r}"
            )
        if dash.scope != "overlay" and dash.overlay is not None:
            problems.append(f"{where}: overlay: only scope: overlay dashboards name an overlay")
        if dash.scope == "overlay" and dash.parameters:
            problems.append(f"{where}: parameters: overlay dashboards have no filters")
        if (dash.scope, dash.collection) not in collections:
            problems.append(f"{where}: collection: no {dash.scope} collection {dash.collection!r}")
        for pid in dash.parameters:
            if pid not in params:
                problems.append(f"{where}: parameters: unknown parameter {pid!r}")
        for key in dash.unplaced:
            if key not in defs.cards.cards:
                problems.append(f"{where}: unplaced: no card {key!r} in cards.yaml")
        keys = [t.key for t in dash.tabs]
        for dup in sorted({k for k in keys if keys.count(k) > 1}):
            problems.append(f"{where}: tabs: key {dup!r} is used twice (tab keys are unique)")
        for tab in dash.tabs:
            requires = [(f"tabs.{tab.key}.requires", tab.requires)]
            requires += [(f"tabs.{tab.key}.names.{n}.requires", v.requires)
                         for n, v in enumerate(tab.names)]  # fmt: skip
            for r, row in enumerate(tab.rows):
                requires.append((f"tabs.{tab.key}.rows.{r}.requires", row.requires))
                for i, item in enumerate(row.items):
                    loc = f"tabs.{tab.key}.rows.{r}.items.{i}"
                    if item.card and item.card not in defs.cards.cards:
                        problems.append(f"{where}: {loc}.card: no card {item.card!r} in cards.yaml")
                    requires.append((f"{loc}.requires", item.requires))
            for loc, feats in requires:
                for feat in feats:
                    if _feature(feat) not in features:
                        problems.append(f"{where}: {loc}: unknown feature {feat!r}")
    return problems


def _feature(requirement: str) -> str:
    """The feature a `requires` entry names (`!name` = the scope must lack `name`)."""
    return requirement.removeprefix("!")


# --------------------------------------------------------------------------------------------
# Rendered plan (plain data)
# --------------------------------------------------------------------------------------------
Ref = tuple[str, str]  # (scope key, object key)


@dataclass(frozen=True)
class Scope:
    key: str  # "global" or the tenant slug
    kind: ScopeKind
    title: str
    slug: str | None = None
    white_label_id: int | None = None
    role_name: str | None = None
    state_codes: tuple[str, ...] = ()
    features: frozenset[str] = frozenset()
    reads: str | None = None  # overlay: the tenant whose database its cards run on

    def fmt(self, template: str | None) -> str | None:
        if template is None:
            return None
        return template.format(title=self.title, slug=self.slug or "")


@dataclass(frozen=True)
class DatabaseSpec:
    scope: str
    key: str
    name: str
    engine: Engine
    credential: str
    required_tables: tuple[str, ...]
    tenant_cards: bool = False

    @property
    def ref(self) -> Ref:
        return (self.scope, self.key)


@dataclass(frozen=True)
class CollectionSpec:
    scope: str
    key: str
    name: str
    description: str | None

    @property
    def ref(self) -> Ref:
        return (self.scope, self.key)


@dataclass(frozen=True)
class GroupSpec:
    scope: str
    key: str
    name: str
    collection_access: str
    collections: tuple[Ref, ...]
    create_queries: str
    databases: tuple[Ref, ...]

    @property
    def ref(self) -> Ref:
        return (self.scope, self.key)


@dataclass(frozen=True)
class CardSpec:
    scope: str
    key: str
    name: str
    description: str | None
    display: str
    sql: str
    template_tags: dict[str, dict[str, Any]]
    visualization_settings: dict[str, Any]
    database: Ref
    collection: Ref
    source: str  # SQL file name

    @property
    def ref(self) -> Ref:
        return (self.scope, self.key)


@dataclass(frozen=True)
class DashcardSpec:
    key: str
    tab: str
    row: int
    col: int
    size_x: int
    size_y: int
    card: Ref | None = None
    text: str | None = None
    mappings: tuple[tuple[str, str], ...] = ()  # (parameter id, template tag)


@dataclass(frozen=True)
class ParameterSpec:
    id: str
    name: str
    type: str
    values_card: Ref | None = None
    values_column: str | None = None


@dataclass(frozen=True)
class DashboardSpec:
    scope: str
    key: str
    name: str
    description: str | None
    collection: Ref
    collection_position: int | None
    tabs: tuple[tuple[str, str], ...]  # (key, name)
    parameters: tuple[ParameterSpec, ...]
    dashcards: tuple[DashcardSpec, ...]

    @property
    def ref(self) -> Ref:
        return (self.scope, self.key)


@dataclass(frozen=True)
class ContentPlan:
    scopes: tuple[Scope, ...]
    databases: tuple[DatabaseSpec, ...]
    collections: tuple[CollectionSpec, ...]  # creation order
    groups: tuple[GroupSpec, ...]
    cards: tuple[CardSpec, ...]
    dashboards: tuple[DashboardSpec, ...]
    all_users: AllUsersDef
    schema: str = "analytics"
    extra: dict[str, Any] = field(default_factory=dict)

    def of_scope(self, scope: str) -> dict[str, list[Any]]:
        return {
            "databases": [d for d in self.databases if d.scope == scope],
            "collections": [c for c in self.collections if c.scope == scope],
            "groups": [g for g in self.groups if g.scope == scope],
            "cards": [c for c in self.cards if c.scope == scope],
            "dashboards": [d for d in self.dashboards if d.scope == scope],
        }

    def card(self, ref: Ref) -> CardSpec:
        for c in self.cards:
            if c.ref == ref:
                return c
        raise KeyError(ref)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TenantInput:
    """What rendering needs of a tenant (components.config.Tenant satisfies it)."""

    slug: str
    white_label_id: int
    title: str
    role_name: str
    state_codes: tuple[str, ...]


def scopes_for(defs: Definitions, tenants: Sequence[Any], *, bigquery: bool) -> list[Scope]:
    """The global scope, then one scope per tenant (stack order) with its features."""
    base = {k for k, v in defs.features.defaults.items() if v}
    overrides = defs.features.overrides
    all_codes = tuple(
        dict.fromkeys(
            c
            for t in tenants
            if overrides.get(t.slug, {}).get(
                "ga_in_global", defs.features.defaults.get("ga_in_global", True)
            )
            for c in t.state_codes
        )
    )
    glob = set(defs.features.defaults)
    if bigquery:
        glob.add("bigquery")
        if all_codes:
            glob.add("ga")
    scopes = [Scope(GLOBAL, "global", "Global", state_codes=all_codes, features=frozenset(glob))]
    for t in tenants:
        if t.slug == GLOBAL:
            raise DefinitionError(f"tenant slug {GLOBAL!r} is reserved for the global content")
        feats = set(base)
        for feat, on in defs.features.overrides.get(t.slug, {}).items():
            (feats.add if on else feats.discard)(feat)
        if t.state_codes:
            feats.add("ga_states")  # the GA tabs are listed (cards need `ga`)
        if bigquery:
            feats.add("bigquery")
            if t.state_codes:
                feats.add("ga")
        scopes.append(
            Scope(
                t.slug, "tenant", t.title, slug=t.slug, white_label_id=t.white_label_id,
                role_name=t.role_name, state_codes=tuple(t.state_codes), features=frozenset(feats),
            )
        )  # fmt: skip
    by_slug = {t.slug: t for t in tenants}
    for o in defs.overlays.overlays:
        if o.key in by_slug:
            raise DefinitionError(
                f"content/overlays.yaml: overlay {o.key!r} has the slug of a tenant; rename it"
            )
        t = by_slug.get(o.tenant)
        if t is None:
            continue  # the stack does not deploy the tenant this overlay reads: no overlay
        scopes.append(
            Scope(
                o.key, "overlay", o.title, slug=o.key, white_label_id=t.white_label_id,
                role_name=t.role_name, reads=t.slug,
            )
        )  # fmt: skip
    return scopes


def _requires_ok(requires: Iterable[str], scope: Scope) -> bool:
    """Every entry holds: `name` = the scope has the feature, `!name` = it lacks it."""
    return all(
        (r[1:] not in scope.features) if r.startswith("!") else (r in scope.features)
        for r in requires
    )


def tag_id(name: str) -> str:
    return str(uuid.uuid5(TAG_NAMESPACE, name))


def render_sql(
    text: str,
    *,
    engine: str,
    schema: str,
    params: Mapping[str, ParameterDef],
    available: Iterable[str],
    filter_table: str,
    window_days: int | None = None,
    bq_dataset: str | None = None,
    state_codes: Sequence[str] = (),
    state_column: str = "state_code",
    global_scope: bool = False,
) -> str:
    """SQL as Metabase should store it for one scope (see module docstring)."""
    available = set(available)
    sql = text
    if engine == "postgres":
        sql = PG_SCHEMA_RE.sub(lambda m: f"{schema}.{m.group(1)}", sql)
        table = f"{schema}.{filter_table}"

        def slot(m: re.Match[str]) -> str:
            name = m.group(1)
            bound = [p for p in params.values() if p.slot == name]
            if window_days and name == "date":
                column = bound[0].column if bound else "submission_date"
                return f"AND {table}.{column} > CURRENT_DATE - {int(window_days)}"
            return " ".join(
                f"[[AND {{{{{p.id}}}}}]]"
                if p.tag_type == "dimension"
                else f"[[AND {table}.{p.column} {p.operator} {{{{{p.id}}}}}]]"
                for p in bound
            )

        sql = SLOT_RE.sub(slot, sql)
    else:
        if not bq_dataset:
            raise DefinitionError("BigQuery card rendered without a project.dataset")
        sql = BQ_TABLE_RE.sub(lambda m: f"`{bq_dataset}.{m.group(1)}`", sql)
        codes = ", ".join("'" + c.replace("'", "''") + "'" for c in state_codes)
        in_codes = f"{state_column} IN ({codes})" if codes else "FALSE"
        with_null = f"({in_codes} OR {state_column} IS NULL)" if global_scope else in_codes
        not_cesn = f"({with_null} AND NOT coalesce(is_cesn, FALSE))" if global_scope else in_codes
        sql = sql.replace("__STATE_FILTER_NOT_CESN__", not_cesn)
        sql = sql.replace("__STATE_FILTER_NULL__", with_null)
        sql = sql.replace("__STATE_FILTER__", in_codes)
        sql = sql.replace("__GA_EPOCH__", f"DATE '{GA_EPOCH}'")

    def optional(m: re.Match[str]) -> str:
        names = set(VARIABLE_RE.findall(m.group(1)))
        return m.group(0) if names and names <= available else ""

    sql = OPTIONAL_CLAUSE_RE.sub(optional, sql)
    sql = re.sub(r"[ \t]+\n", "\n", sql)
    return re.sub(r"\n[ \t]*\n(?=[ \t]*(GROUP|ORDER|SELECT|FROM|\)))", "\n", sql).strip() + "\n"


def bind_columns(text: str, bind: Mapping[str, str]) -> str:
    """`__NAME__` placeholders replaced by the card's bound column names (see cards.yaml)."""
    return BIND_RE.sub(lambda m: bind.get(m.group(1), m.group(0)), text)


def template_tags(
    sql: str,
    params: Mapping[str, ParameterDef],
    *,
    schema: str = "analytics",
    filter_table: str = "mart_screener_data",
) -> dict[str, dict[str, Any]]:
    """The card's template tags. A field filter is declared BY NAME:
    ``{"type": "dimension", "field": [schema, table, column], "widget-type": <parameter type>}``;
    the Card provider resolves ``field`` to Metabase's ``dimension: ["field", <id>, null]`` on
    create/update (after the database's sync) and maps it back on read."""
    tags: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(VARIABLE_RE.findall(sql)):
        p = params.get(name)
        if p is None:
            raise DefinitionError(f"rendered SQL uses {{{{{name}}}}}, which is not a parameter")
        tag: dict[str, Any] = {
            "id": tag_id(name),
            "name": name,
            "display-name": p.name,
            "type": p.tag_type,
            "required": False,
        }
        if p.tag_type == "dimension":
            tag["field"] = [schema, filter_table, p.column]
            tag["widget-type"] = p.type
        tags[name] = tag
    return tags


def mapping_target(tag: Mapping[str, Any]) -> list[Any]:
    """The dashcard ``parameter_mappings`` target of a template tag: a field filter maps as a
    ``dimension``, a plain variable as a ``variable``."""
    kind = "dimension" if tag.get("type") == "dimension" else "variable"
    return [kind, ["template-tag", tag["name"]]]


def _viz(card: CardDef) -> dict[str, Any]:
    viz = dict(card.visualization_settings)
    settings: dict[str, Any] = dict(viz.get("column_settings") or {})

    def merge(col: str, values: dict[str, Any]) -> None:
        key = f'["name","{col}"]'
        settings[key] = {**(settings.get(key) or {}), **values}

    for col in card.percent:  # Postgres shares are 0-1 fractions shown with 0 decimals
        merge(col, {"number_style": "percent", "decimals": 0})
    for col in card.currency:
        merge(col, {"number_style": "currency", "currency": "USD", "decimals": 0})
    for col in card.rate:  # GA4 rates are 0-100 already: 1 decimal and a "%" suffix
        merge(col, {"suffix": "%", "decimals": 1})
    for col in card.mini_bar:
        merge(col, {"show_mini_bar": True})
    if settings:
        viz["column_settings"] = settings
    return viz


def layout_tab(
    tab: TabDef, scope: Scope, where: str, card_requires: Mapping[str, Sequence[str]]
) -> list[tuple[ItemDef, int, int, int, int]]:
    """(item, row, col, size_x, size_y) for the items of `tab` the scope keeps.

    Rows stack top to bottom, each `height` tall. Items whose own or card's `requires` (or whose
    row's) the scope lacks are dropped and the rest of the row re-flows: items without a width
    share the row's free columns equally. An item's `height` (default: the row's) may be smaller
    (the row leaves a gap below it) or larger (it spans into the following rows, whose items must
    then leave its columns free: `col` places an item at an explicit column). Overlapping or
    overflowing items are a DefinitionError naming the tab and row.
    """
    placed = []
    taken: dict[tuple[int, int], str] = {}
    y = 0
    for r, row in enumerate(tab.rows):
        if not _requires_ok(row.requires, scope):
            continue
        items = [i for i in row.items if _requires_ok(i.requires, scope)]
        items = [
            i for i in items
            if i.card is None or _requires_ok(card_requires.get(i.card, ()), scope)
        ]  # fmt: skip
        if not items:
            continue
        loc = f"{where}: tabs.{tab.key}.rows.{r}"
        fixed = sum(i.width for i in items if i.width)
        auto = [i for i in items if not i.width]
        free = GRID_COLUMNS - fixed
        if free < len(auto) or (not auto and free < 0):
            raise DefinitionError(
                f"{loc}: items need {fixed} fixed columns plus "
                f"{len(auto)} auto item(s) on a {GRID_COLUMNS}-column grid; reduce the widths"
            )
        share, extra = divmod(free, len(auto)) if auto else (0, 0)
        x = 0
        for n, item in enumerate(items):
            if item.width:
                w = item.width
            else:
                w = share + (1 if extra > 0 else 0)
                extra -= 1 if extra > 0 else 0
            if item.col is not None:
                x = item.col
            h = item.height or row.height
            name = item.card or f"text {n}"
            if x + w > GRID_COLUMNS:
                raise DefinitionError(
                    f"{loc}: {name} at column {x} is {w} wide, past the {GRID_COLUMNS}-column "
                    "grid; lower its col or width"
                )
            for cell in ((yy, xx) for yy in range(y, y + h) for xx in range(x, x + w)):
                if cell in taken:
                    raise DefinitionError(
                        f"{loc}: {name} overlaps {taken[cell]} at row {cell[0]}, column "
                        f"{cell[1]}; move it with col or shorten the item above with height"
                    )
                taken[cell] = name
            placed.append((item, y, x, w, h))
            x += w
        y += row.height
    return placed


def render(
    defs: Definitions,
    tenants: Sequence[Any],
    *,
    schema: str = "analytics",
    bigquery: bool = False,
    bq_dataset: str | None = None,
) -> ContentPlan:
    """Everything Metabase should hold for these tenants (global scope first)."""
    card_requires = {k: tuple(c.requires) for k, c in defs.cards.cards.items()}
    if bigquery and not bq_dataset:
        raise DefinitionError("BigQuery content needs bq_dataset ('project.dataset')")
    scopes = scopes_for(defs, tenants, bigquery=bigquery)
    params = defs.parameter_by_id
    databases: list[DatabaseSpec] = []
    collections: list[CollectionSpec] = []
    groups: list[GroupSpec] = []
    dashboards: list[DashboardSpec] = []
    cards: dict[Ref, CardSpec] = {}

    bq_dataset_id = bq_dataset.split(".", 1)[-1] if bq_dataset else None

    def db_spec(scope: Scope, d: DatabaseDef) -> DatabaseSpec:
        # Metabase reports a table's schema: the Postgres schema, or the BigQuery dataset id
        qualifier = schema if d.engine == "postgres" else bq_dataset_id
        tables = tuple(t if "." in t else f"{qualifier}.{t}" for t in d.required_tables)
        return DatabaseSpec(
            scope.key, d.key, scope.fmt(d.name), d.engine, d.credential, tables, d.tenant_cards
        )

    for scope in scopes:
        for d in defs.databases.databases:
            if d.scope == scope.kind and _requires_ok(d.requires, scope):
                databases.append(db_spec(scope, d))
        for c in defs.access.collections:
            if c.scope == scope.kind:
                collections.append(
                    CollectionSpec(scope.key, c.key, scope.fmt(c.name), scope.fmt(c.description))
                )
    managed_dbs = tuple(d.ref for d in databases)
    all_collections = tuple(c.ref for c in collections)
    for scope in scopes:
        own_dbs = tuple(d.ref for d in databases if d.scope == scope.key)
        own_colls = tuple(c.ref for c in collections if c.scope == scope.key)
        for g in defs.access.groups:
            if g.scope != scope.kind:
                continue
            groups.append(
                GroupSpec(
                    scope.key, g.key, scope.fmt(g.name), g.collection_access,
                    all_collections if g.collections == "all" else own_colls,
                    g.create_queries,
                    {"all": managed_dbs, "own": own_dbs, "none": ()}[g.databases],
                )
            )  # fmt: skip

    db_by_engine: dict[tuple[str, str], Ref] = {}
    tenant_shared: dict[str, Ref] = {}
    for d in databases:
        db_by_engine[(d.scope, d.engine)] = d.ref
        if d.tenant_cards and d.scope == GLOBAL:
            tenant_shared[d.engine] = d.ref

    def database_for(scope: Scope, engine: str, where: str) -> Ref:
        """The scope's own database for the engine; for an overlay, its tenant's database only;
        for a tenant, else a global database that allows tenant cards. Never the global
        connection by default: that one logs in as the owner and would show a tenant every white
        label's rows."""
        if scope.reads:  # an overlay: the tenant's database only, never the global one
            ref = db_by_engine.get((scope.reads, engine))
        else:
            ref = db_by_engine.get((scope.key, engine))
            if ref is None and scope.kind == "tenant":
                ref = tenant_shared.get(engine)
        if ref is None:
            extra = (
                f"; only a global database with tenant_cards: true (databases.yaml) may serve "
                f"tenant cards, and no {engine} one does"
                if scope.kind == "tenant"
                else ""
            )
            raise DefinitionError(f"{where}: no {engine} database for scope {scope.key!r}{extra}")
        return ref

    for scope in scopes:
        scope_dashes = [
            (f, d)
            for f, d in defs.dashboards.items()
            if d.scope == scope.kind and (d.overlay is None or d.overlay == scope.key)
        ]
        available = {
            pid
            for _f, d in scope_dashes
            for pid in d.parameters
            if _requires_ok(params[pid].requires, scope)
        }

        def card_for(key: str, where: str, scope: Scope = scope, available=available) -> Ref:
            ref = (scope.key, key)
            if ref in cards:
                return ref
            card = defs.cards.cards[key]
            engine = card.engine
            sql = render_sql(
                bind_columns(defs.sql[card.sql], card.bind), engine=engine, schema=schema,
                params=params, available=available, filter_table=defs.parameters.filter_table,
                window_days=card.window_days, bq_dataset=bq_dataset,
                state_codes=scope.state_codes, state_column=card.state_column,
                global_scope=scope.kind == "global",
            )  # fmt: skip
            coll = next((c.ref for c in collections if c.scope == scope.key), None)
            if coll is None:
                raise DefinitionError(f"{where}: scope {scope.key!r} has no collection")
            cards[ref] = CardSpec(
                scope=scope.key, key=key, name=card.name, description=card.description,
                display=card.display, sql=sql,
                template_tags=template_tags(
                    sql, params, schema=schema, filter_table=defs.parameters.filter_table
                ),
                visualization_settings=_viz(card), database=database_for(scope, engine, where),
                collection=coll, source=card.sql,
            )  # fmt: skip
            return ref

        for fname, dash in scope_dashes:
            where = f"content/dashboards/{fname}"
            tabs = [t for t in dash.tabs if _requires_ok(t.requires, scope)]
            dashcards: list[DashcardSpec] = []
            for tab in tabs:
                texts = 0
                for item, y, x, w, h in layout_tab(tab, scope, where, card_requires):
                    if item.card:
                        ref = card_for(item.card, where)
                        spec = cards[ref]
                        mappings = tuple(
                            (pid, pid) for pid in dash.parameters if pid in spec.template_tags
                        )
                        dashcards.append(
                            DashcardSpec(f"{tab.key}:{item.card}", tab.key, y, x, w, h,
                                         card=ref, mappings=mappings)
                        )  # fmt: skip
                    else:
                        texts += 1
                        dashcards.append(
                            DashcardSpec(f"{tab.key}:text{texts}", tab.key, y, x, w, h,
                                         text=item.text)
                        )  # fmt: skip
            for key in dash.unplaced:
                if _requires_ok(card_requires.get(key, ()), scope):
                    card_for(key, where)
            pspecs = []
            for pid in (x for x in dash.parameters if x in available):
                p = params[pid]
                values_ref = card_for(p.values_card, where) if p.values_card else None
                pspecs.append(ParameterSpec(p.id, p.name, p.type, values_ref, p.values_column))
            coll_ref = (scope.key, dash.collection)
            dashboards.append(
                DashboardSpec(
                    scope=scope.key, key=dash.key, name=scope.fmt(dash.name),
                    description=scope.fmt(dash.description), collection=coll_ref,
                    collection_position=dash.collection_position,
                    tabs=tuple((t.key, t.name_for(scope)) for t in tabs),
                    parameters=tuple(pspecs),
                    dashcards=tuple(dashcards),
                )
            )  # fmt: skip

    # Metabase has no client-chosen key for cards and dashboards: the provider finds a lost
    # create by its name within its collection, so two of one kind must not share a name there
    for kind, specs in (("card", list(cards.values())), ("dashboard", dashboards)):
        seen: dict[tuple[Ref, str], str] = {}
        for spec in specs:
            at = (spec.collection, spec.name)
            if at in seen:
                raise DefinitionError(
                    f"{kind}s {seen[at]!r} and {spec.key!r} of scope {spec.scope!r} are both "
                    f"named {spec.name!r} in one collection: give them distinct names"
                )
            seen[at] = spec.key
    return ContentPlan(
        scopes=tuple(scopes),
        databases=tuple(databases),
        collections=tuple(collections),
        groups=tuple(groups),
        cards=tuple(cards.values()),
        dashboards=tuple(dashboards),
        all_users=defs.access.all_users,
        schema=schema,
        extra={"bq_dataset": bq_dataset} if bigquery else {},
    )


def render_for_config(
    cfg: Any, defs: Definitions | None = None, *, bigquery: bool | None = None
) -> ContentPlan:
    """Render for a `components.config.StackConfig` (BigQuery per cfg unless overridden)."""
    defs = defs or load_definitions()
    bq = cfg.gcp.bigquery_enabled if bigquery is None else bigquery
    return render(
        defs,
        cfg.tenants,
        schema=cfg.database.schema_name,
        bigquery=bq,
        bq_dataset=f"{cfg.gcp.project}.{cfg.gcp.analytics_dataset}" if bq else None,
    )


# --------------------------------------------------------------------------------------------
# Metabase payload helpers (plain dicts; ids supplied by the caller)
# --------------------------------------------------------------------------------------------
def text_visualization(text: str) -> dict[str, Any]:
    return {
        "virtual_card": {
            "name": None,
            "display": "text",
            "visualization_settings": {},
            "dataset_query": {},
            "archived": False,
        },
        "text": text,
    }


def parameter_payload(p: ParameterSpec, values_card_id: Any = None) -> dict[str, Any]:
    """A dashboard parameter as Metabase stores it (`values_card_id` for dropdown values)."""
    section = p.type.split("/", 1)[0]
    body: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "slug": p.id,
        "type": p.type,
        "sectionId": "date" if section == "date" else section,
    }
    if p.values_card is not None:
        body["values_source_type"] = "card"
        body["values_source_config"] = {
            "card_id": values_card_id,
            "value_field": ["field", p.values_column, {"base-type": "type/Text"}],
        }
    return body
