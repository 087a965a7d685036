"""Stack configuration: read once, validated into typed models, with fix-it errors.

Every key lives in the project namespace `mfb-analytics:` and is documented in `Pulumi.yaml`
(scalar keys under `config:`, structured ones — `tenants` — in the comment block there).
`StackConfig.from_mapping()` is pure (used by tests and by `mfb-infra`); `load()` reads the
running Pulumi program's config and fails *before any resource is registered* with one message
that lists every bad key and how to fix it.

Secrets are never part of these models: they are read as `pulumi.Output` secrets by
`StackSecrets.load()` and only their presence is validated here.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PROJECT = "mfb-analytics"

TENANT_ROLE_RE = re.compile(r"^wl_([a-z][a-z_]*)_([0-9]+)_ro$")
PG_IDENTIFIER_MAX_BYTES = 63

# Heroku dyno sizes (https://devcenter.heroku.com/articles/dyno-types), smallest first, with RAM MB.
HEROKU_DYNO_MEMORY_MB: dict[str, int] = {
    "eco": 512,
    "basic": 512,
    "standard-1x": 512,
    "standard-2x": 1024,
    "performance-m": 2560,
    "performance-l": 14336,
    "performance-l-ram": 30720,
    "performance-xl": 63488,
    "performance-2xl": 126976,
    "private-s": 1024,
    "private-m": 2560,
    "private-l": 14336,
    "shield-s": 1024,
    "shield-m": 2560,
    "shield-l": 14336,
}
METABASE_MIN_DYNO_MB = 1024  # 512 MB dynos OOM (R15 at 225 %), per the deployment log

SEMVER_TAG_RE = re.compile(r"^v\d+\.\d+\.\d+$")


class ConfigError(ValueError):
    """Bad stack config. `problems` holds (key, message) pairs; str() is the full report."""

    def __init__(self, problems: list[tuple[str, str]], stack: str | None = None):
        self.problems = problems
        where = f" for stack '{stack}'" if stack else ""
        lines = [f"Invalid stack configuration{where} ({len(problems)} problem(s)):"]
        lines += [f"  - {PROJECT}:{key}: {msg}" for key, msg in problems]
        super().__init__("\n".join(lines))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=_camel, populate_by_name=True, extra="forbid", frozen=True
    )


# --------------------------------------------------------------------------------------------
# Tenants
# --------------------------------------------------------------------------------------------
class Tenant(_Model):
    """One white label. Adding one of these to the stack file is the only edit a tenant needs."""

    slug: str
    white_label_id: int
    display_name: str | None = None
    ga_state_codes: list[str] | None = None

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z][a-z_]*", v):
            raise ValueError(
                f"'{v}' is not a valid tenant slug: use lowercase letters and underscores, "
                "starting with a letter (e.g. 'co_tax_calculator')"
            )
        return v

    @field_validator("white_label_id")
    @classmethod
    def _wl(cls, v: int) -> int:
        if v <= 0:
            raise ValueError(f"{v} is not a positive integer: use the id of screener_whitelabel")
        return v

    @model_validator(mode="after")
    def _role_fits(self) -> Tenant:
        role = self.role_name
        if len(role.encode()) > PG_IDENTIFIER_MAX_BYTES:
            raise ValueError(
                f"derived role name '{role}' is {len(role.encode())} bytes; PostgreSQL truncates "
                f"identifiers at {PG_IDENTIFIER_MAX_BYTES}: shorten the slug"
            )
        return self

    @property
    def role_name(self) -> str:
        return f"wl_{self.slug}_{self.white_label_id}_ro"

    @property
    def title(self) -> str:
        return self.display_name or self.slug.replace("_", " ").title()

    @property
    def state_codes(self) -> list[str]:
        """GA4 `screener_state` codes; defaults to the slug."""
        return list(self.ga_state_codes) if self.ga_state_codes is not None else [self.slug]

    @property
    def env_prefix(self) -> str:
        """Prefix of this tenant's GitHub secrets, e.g. CO_TAX_CALCULATOR_DB_USER."""
        return self.slug.upper()


# --------------------------------------------------------------------------------------------
# Sections (one per component)
# --------------------------------------------------------------------------------------------
CredentialMode = Literal["sql", "heroku", "shared"]


class DatabaseConfig(_Model):
    """The Django/analytics Postgres that dbt writes `analytics` into (not Metabase's app DB)."""

    port: int = 5432
    name: str
    ssl_mode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = (
        "require"
    )
    schema_name: str = "analytics"
    tenant_credential_mode: CredentialMode = "sql"
    heroku_data_app: str = "cobenefits-api"
    # limits on every tenant role (see TenantLimits / README "What a tenant credential can do")
    tenant_connection_limit: int = 10
    tenant_statement_timeout_ms: int = 120_000
    tenant_idle_in_transaction_timeout_ms: int = 60_000
    tenant_temp_file_limit_mb: int = 256

    @field_validator("tenant_connection_limit")
    @classmethod
    def _conn_limit(cls, v: int) -> int:
        if not 1 <= v <= 100:
            raise ValueError(
                f"{v} is outside 1..100: each tenant role needs at least one connection, and "
                "more than 100 per tenant would let one tenant exhaust the server's "
                "max_connections; use e.g. 10 (Metabase's pool for that database should not be "
                "larger)"
            )
        return v

    @field_validator("tenant_statement_timeout_ms", "tenant_idle_in_transaction_timeout_ms")
    @classmethod
    def _timeout(cls, v: int) -> int:
        if not 1_000 <= v <= 3_600_000:
            raise ValueError(
                f"{v} ms is outside 1000..3600000 (1 s to 1 h): 0 would mean no limit, which "
                "is what this key exists to prevent; use e.g. 120000 (2 min)"
            )
        return v

    @field_validator("tenant_temp_file_limit_mb")
    @classmethod
    def _temp_limit(cls, v: int) -> int:
        if not 1 <= v <= 102_400:
            raise ValueError(
                f"{v} MB is outside 1..102400: a tenant query may spill at most this much to "
                "temporary files; use e.g. 256"
            )
        return v


class HerokuConfig(_Model):
    team: str
    region: str = "us"
    app_name: str
    pipeline_name: str = "mfb-metabase"
    pipeline_owner_stack: str | None = None
    pipeline_id: str | None = None
    dyno_size: str = "standard-2x"
    dyno_quantity: int = 1
    addon_plan: str = "heroku-postgresql:essential-0"
    production_image: Literal["promote", "rebuild"] = "rebuild"

    @field_validator("dyno_size")
    @classmethod
    def _dyno(cls, v: str) -> str:
        size = v.lower()
        if size not in HEROKU_DYNO_MEMORY_MB:
            raise ValueError(
                f"'{v}' is not a Heroku dyno size; use one of: {', '.join(HEROKU_DYNO_MEMORY_MB)}"
            )
        if HEROKU_DYNO_MEMORY_MB[size] < METABASE_MIN_DYNO_MB:
            raise ValueError(
                f"'{v}' has {HEROKU_DYNO_MEMORY_MB[size]} MB; Metabase needs at least "
                "standard-2x (1 GB) — smaller dynos OOM (R15). Use standard-2x or larger"
            )
        return size

    @field_validator("dyno_quantity")
    @classmethod
    def _qty(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be at least 1 (0 would stop Metabase)")
        return v

    @field_validator("team", "region", "app_name", "pipeline_name")
    @classmethod
    def _nonblank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v

    @property
    def dyno_memory_mb(self) -> int:
        return HEROKU_DYNO_MEMORY_MB[self.dyno_size]


ADOPT_REF_RE = re.compile(r"^[a-z][a-z0-9_]*/[a-z][a-z0-9_]*$")


class MetabaseAdopt(_Model):
    """Existing Metabase objects the first `up` takes over by id (`metabaseAdopt`), for objects
    whose live name differs from the declared one (adoption by name covers the rest). Keys are
    `<scope>/<key>`: scope `global`, a tenant slug or an overlay key; key the content key
    (cards.yaml, the dashboard's `key`, access.yaml's collection key)."""

    cards: dict[str, int] = Field(default_factory=dict)
    dashboards: dict[str, int] = Field(default_factory=dict)
    collections: dict[str, int] = Field(default_factory=dict)

    @field_validator("cards", "dashboards", "collections")
    @classmethod
    def _refs(cls, v: dict[str, int]) -> dict[str, int]:
        for ref, id_ in v.items():
            if not ADOPT_REF_RE.match(ref):
                raise ValueError(
                    f"{ref!r} is not '<scope>/<key>' (e.g. 'tx/completed_screeners', 'global/main')"
                )
            if id_ <= 0:
                raise ValueError(f"{ref}: {id_} is not a Metabase id (a positive integer)")
        seen: dict[int, str] = {}
        for ref, id_ in v.items():
            if id_ in seen:
                raise ValueError(f"{seen[id_]} and {ref} both adopt id {id_}; one object each")
            seen[id_] = ref
        return v


class MetabaseConfig(_Model):
    version: str
    url: str | None = None
    admin_email: str
    sync_timeout_seconds: int = 2700
    adopt: MetabaseAdopt = Field(default_factory=MetabaseAdopt)

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not SEMVER_TAG_RE.fullmatch(v):
            raise ValueError(
                f"'{v}' is not an exact image tag: pin metabase/metabase to a 'vX.Y.Z' tag "
                "such as 'v0.56.19' (no 'latest', no ranges)"
            )
        return v

    @field_validator("admin_email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v):
            raise ValueError(f"'{v}' is not an email address")
        return v


class GithubConfig(_Model):
    repository: str
    production_reviewer_user_ids: list[int] = Field(default_factory=list)
    production_reviewer_team_ids: list[int] = Field(default_factory=list)

    @field_validator("repository")
    @classmethod
    def _repo(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", v):
            raise ValueError(f"'{v}' is not 'owner/name'")
        return v

    @field_validator("production_reviewer_user_ids", "production_reviewer_team_ids")
    @classmethod
    def _ids(cls, v: list[int]) -> list[int]:
        bad = [i for i in v if i <= 0]
        if bad:
            raise ValueError(f"{bad} are not GitHub ids (positive numbers, not logins or slugs)")
        if len(set(v)) != len(v):
            raise ValueError(f"{v} lists an id twice")
        return v

    @property
    def owner(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.repository.split("/", 1)[1]


class GcpConfig(_Model):
    project: str
    project_number: str
    bigquery_enabled: bool = True
    bigquery_location: str = "US"
    analytics_dataset: str = "analytics"
    ga4_dataset: str
    wif_pool_id: str = "github-actions"
    wif_provider_id: str = "github"
    create_metabase_key: bool = False


class TfeConfig(_Model):
    enabled: bool = True
    organization: str = "MyFriendBen"
    workspace: str
    address: str = "https://app.terraform.io"


# --------------------------------------------------------------------------------------------
# Whole stack
# --------------------------------------------------------------------------------------------
class StackConfig(_Model):
    environment: Literal["staging", "production"]
    tenants: list[Tenant]
    database: DatabaseConfig
    heroku: HerokuConfig
    metabase: MetabaseConfig
    github: GithubConfig
    gcp: GcpConfig
    tfe: TfeConfig

    @model_validator(mode="after")
    def _cross(self) -> StackConfig:
        problems: list[str] = []
        seen: dict[int, str] = {}
        slugs: set[str] = set()
        for t in self.tenants:
            if t.white_label_id in seen:
                problems.append(
                    f"tenants: white_label_id {t.white_label_id} is used by both "
                    f"'{seen[t.white_label_id]}' and '{t.slug}'; each tenant needs its own id"
                )
            seen[t.white_label_id] = t.slug
            if t.slug in slugs:
                problems.append(f"tenants: slug '{t.slug}' appears twice; slugs must be unique")
            slugs.add(t.slug)
        n = len(self.github.production_reviewer_user_ids) + len(
            self.github.production_reviewer_team_ids
        )
        if n > 6:
            # GitHub allows at most 6 required reviewers per environment, users and teams
            # combined (terraform-provider-github resource_github_repository_environment.go)
            problems.append(
                f"githubProductionReviewerUserIds: {n} production reviewers with "
                "githubProductionReviewerTeamIds; GitHub allows at most 6 per environment "
                "(users and teams combined): name a team for a larger group"
            )
        if self.environment == "production":
            if self.database.tenant_credential_mode == "shared":
                problems.append(
                    "databaseTenantCredentialMode: 'shared' gives every tenant one credential "
                    "that sees all rows; production must use 'heroku' or 'sql'"
                )
            if not (self.heroku.pipeline_owner_stack or self.heroku.pipeline_id):
                problems.append(
                    "herokuPipelineOwnerStack: production does not create the Heroku pipeline "
                    "(the staging stack owns it); set herokuPipelineOwnerStack to the staging "
                    "stack's name (org/mfb-analytics/staging) or herokuPipelineId to its id"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # ---- construction ----------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, raw: dict[str, Any], stack: str | None = None) -> StackConfig:
        """Build from flat config keys (without the `mfb-analytics:` prefix)."""
        unknown = [k for k in raw if k not in KEYS and k not in SECRET_KEYS]
        problems: list[tuple[str, str]] = []
        for k in unknown:
            close = difflib.get_close_matches(k, list(KEYS) + list(SECRET_KEYS), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append((k, f"unknown key{hint} (every key is documented in Pulumi.yaml)"))
        nested: dict[str, Any] = {}
        for key, (section, field) in KEYS.items():
            if key not in raw or raw[key] is None:
                continue
            value = _decode(raw[key], key)
            if section is None:
                nested[field] = value
            else:
                nested.setdefault(section, {})[field] = value
        for section in ("database", "heroku", "metabase", "github", "gcp", "tfe"):
            nested.setdefault(section, {})
        try:
            cfg = cls.model_validate(nested)
        except ValidationError as e:
            problems += _explain(e)
            raise ConfigError(problems, stack) from None
        if problems:
            raise ConfigError(problems, stack)
        return cfg


# flat config key -> (section, field); section None = top level
KEYS: dict[str, tuple[str | None, str]] = {
    "environment": (None, "environment"),
    "tenants": (None, "tenants"),
    "databasePort": ("database", "port"),
    "databaseName": ("database", "name"),
    "databaseSslMode": ("database", "ssl_mode"),
    "databaseSchema": ("database", "schema_name"),
    "databaseTenantCredentialMode": ("database", "tenant_credential_mode"),
    "databaseHerokuDataApp": ("database", "heroku_data_app"),
    "databaseTenantConnectionLimit": ("database", "tenant_connection_limit"),
    "databaseTenantStatementTimeoutMs": ("database", "tenant_statement_timeout_ms"),
    "databaseTenantIdleInTransactionTimeoutMs": (
        "database",
        "tenant_idle_in_transaction_timeout_ms",
    ),
    "databaseTenantTempFileLimitMb": ("database", "tenant_temp_file_limit_mb"),
    "herokuTeam": ("heroku", "team"),
    "herokuRegion": ("heroku", "region"),
    "herokuAppName": ("heroku", "app_name"),
    "herokuPipelineName": ("heroku", "pipeline_name"),
    "herokuPipelineOwnerStack": ("heroku", "pipeline_owner_stack"),
    "herokuPipelineId": ("heroku", "pipeline_id"),
    "herokuDynoSize": ("heroku", "dyno_size"),
    "herokuDynoQuantity": ("heroku", "dyno_quantity"),
    "herokuAddonPlan": ("heroku", "addon_plan"),
    "herokuProductionImage": ("heroku", "production_image"),
    "metabaseVersion": ("metabase", "version"),
    "metabaseUrl": ("metabase", "url"),
    "metabaseAdminEmail": ("metabase", "admin_email"),
    "metabaseSyncTimeoutSeconds": ("metabase", "sync_timeout_seconds"),
    "metabaseAdopt": ("metabase", "adopt"),
    "githubRepository": ("github", "repository"),
    "githubProductionReviewerUserIds": ("github", "production_reviewer_user_ids"),
    "githubProductionReviewerTeamIds": ("github", "production_reviewer_team_ids"),
    "gcpProject": ("gcp", "project"),
    "gcpProjectNumber": ("gcp", "project_number"),
    "gcpBigqueryEnabled": ("gcp", "bigquery_enabled"),
    "gcpBigqueryLocation": ("gcp", "bigquery_location"),
    "gcpAnalyticsDataset": ("gcp", "analytics_dataset"),
    "gcpGa4Dataset": ("gcp", "ga4_dataset"),
    "gcpWifPoolId": ("gcp", "wif_pool_id"),
    "gcpWifProviderId": ("gcp", "wif_provider_id"),
    "gcpCreateMetabaseKey": ("gcp", "create_metabase_key"),
    "tfeEnabled": ("tfe", "enabled"),
    "tfeOrganization": ("tfe", "organization"),
    "tfeWorkspace": ("tfe", "workspace"),
    "tfeAddress": ("tfe", "address"),
}
_FIELD_TO_KEY = {(s, f): k for k, (s, f) in KEYS.items()}

# secret keys: (required?, where it comes from) — values never enter the models above
SECRET_KEYS: dict[str, tuple[bool, str]] = {
    "databaseHost": (True, "host of the Django Postgres (Heroku: `heroku pg:credentials:url`)"),
    "databaseAdminUser": (True, "owner/dbt credential user (Heroku: the `default` credential)"),
    "databaseAdminPassword": (True, "password of databaseAdminUser (dbt / global credential)"),
    "metabaseAdminPassword": (True, "password for the Metabase admin account to create/use"),
    "metabaseBigquerySaKey": (
        False,
        "JSON key of the metabase-bigquery service account (when gcpCreateMetabaseKey=false)",
    ),
    "metabaseApiKey": (False, "Metabase API key (mb_...), instead of the admin password login"),
    "tfeToken": (False, "Terraform Cloud API token (team or user token)"),
}

_HINTS: dict[str, str] = {
    "missing": "required: set it with `pulumi config set {key} <value>`",
    "literal_error": "must be one of {expected}",
    "int_parsing": "must be an integer",
    "int_type": "must be an integer",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "string_type": "must be a string",
    "extra_forbidden": "unknown field; check the spelling against Pulumi.yaml",
}


_JSON_KEYS = {
    "tenants",
    "githubProductionReviewerUserIds",
    "githubProductionReviewerTeamIds",
    "metabaseAdopt",
}


def _decode(value: Any, key: str) -> Any:
    """Pulumi hands structured config to programs as JSON strings; decode those."""
    if key in _JSON_KEYS and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise ConfigError([(key, f"is not valid JSON ({e.msg})")]) from None
    return value


def _key_for(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "(stack)"
    head = loc[0]
    if head == "tenants":
        out = "tenants"
        for part in loc[1:]:
            out += f"[{part}]" if isinstance(part, int) else f".{_camel(str(part))}"
        return out
    if head in ("database", "heroku", "metabase", "github", "gcp", "tfe") and len(loc) > 1:
        key = _FIELD_TO_KEY.get((head, str(loc[1])))
        if key:
            return key + "".join(f"[{p}]" for p in loc[2:])
    if head == "environment":
        return "environment"
    return ".".join(str(p) for p in loc)


def _explain(err: ValidationError) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = _key_for(loc)
        etype = e["type"]
        if etype == "value_error":
            msg = str(e["msg"]).removeprefix("Value error, ")
            # cross-field errors already carry their own key prefix, one per line
            if key == "(stack)":
                for line in msg.splitlines():
                    k, _, m = line.partition(": ")
                    out.append((k, m))
                continue
        elif etype in _HINTS:
            ctx = e.get("ctx") or {}
            msg = _HINTS[etype].format(key=f"{PROJECT}:{key}", **ctx)
            if etype == "literal_error":
                msg += f" (got {e.get('input')!r})"
        else:
            msg = e["msg"]
        out.append((key, msg))
    return out


# --------------------------------------------------------------------------------------------
# Reading the running program's config
# --------------------------------------------------------------------------------------------
class StackSecrets:
    """Secret config values as Pulumi secret Outputs (never plain)."""

    def __init__(self, values: dict[str, Any]):
        self._values = values

    def get(self, key: str):
        return self._values.get(key)

    def require(self, key: str):
        v = self._values.get(key)
        if v is None:
            raise ConfigError([(key, f"required secret missing: {SECRET_KEYS[key][1]}")])
        return v


def load() -> tuple[StackConfig, StackSecrets]:
    """Read and validate this stack's config inside a Pulumi program (or under mocks)."""
    import pulumi

    stack = pulumi.get_stack()
    cfg = pulumi.Config(PROJECT)
    from pulumi.runtime import config as runtime_config

    all_keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw: dict[str, Any] = {}
    prefix = f"{PROJECT}:"
    for full in sorted(all_keys):
        if full.startswith(prefix):
            k = full[len(prefix) :]
            if k not in SECRET_KEYS:
                raw[k] = cfg.get(k)
    for k in KEYS:
        if k not in raw:
            v = cfg.get(k)
            if v is not None:
                raw[k] = v
    problems: list[tuple[str, str]] = []
    secrets: dict[str, Any] = {}
    for key, (required, source) in SECRET_KEYS.items():
        present = pulumi.runtime.get_config(f"{prefix}{key}") is not None
        if present:
            secrets[key] = cfg.require_secret(key)
        elif required:
            problems.append(
                (key, f"required secret missing: `pulumi config set --secret {key} ...` ({source})")
            )
    try:
        model = StackConfig.from_mapping(raw, stack)
    except ConfigError as e:
        raise ConfigError(e.problems + problems, stack) from None
    if problems:
        raise ConfigError(problems, stack)
    return model, StackSecrets(secrets)
