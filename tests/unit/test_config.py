"""Stack config models: the stack files validate; every bad input names its key and the fix."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from components.config import KEYS, PROJECT, SECRET_KEYS, ConfigError, StackConfig
from mfb_infra.program import REPO, cli_config


def _raw(stack: str) -> dict[str, Any]:
    """The flat key map the program sees for a stack file (defaults applied, secrets dropped)."""
    config, _secret_keys = cli_config(stack)
    out: dict[str, Any] = {}
    for full, value in config.items():
        short = full.split(":", 1)[1]
        if short not in SECRET_KEYS:
            out[short] = value
    return out


def _problems(raw: dict[str, Any], stack: str = "test") -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        StackConfig.from_mapping(raw, stack)
    return info.value.problems


def _with(stack: str, **changes: Any) -> dict[str, Any]:
    raw = _raw(stack)
    for k, v in changes.items():
        if v is None:
            raw.pop(k, None)
        else:
            raw[k] = v if isinstance(v, str) else json.dumps(v)
    return raw


def _tenants(stack: str) -> list[dict[str, Any]]:
    return copy.deepcopy(json.loads(_raw(stack)["tenants"]))


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_stack_file_validates(stack):
    cfg = StackConfig.from_mapping(_raw(stack), stack)
    assert cfg.environment == stack


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_stack_file_has_the_eight_upstream_tenants(stack):
    cfg = StackConfig.from_mapping(_raw(stack), stack)
    assert {(t.slug, t.white_label_id) for t in cfg.tenants} == {
        ("nc", 5),
        ("co", 1),
        ("tx", 40),
        ("wa", 41),
        ("il", 39),
        ("ma", 38),
        ("cesn", 4),
        ("co_tax_calculator", 3),
    }


def test_role_name_is_derived_from_slug_and_id():
    cfg = StackConfig.from_mapping(_raw("production"))
    roles = {t.slug: t.role_name for t in cfg.tenants}
    assert roles["co_tax_calculator"] == "wl_co_tax_calculator_3_ro"


# ---- bad input: each names its key --------------------------------------------------------
def _keys(problems: list[tuple[str, str]]) -> set[str]:
    return {k for k, _ in problems}


def test_bad_slug_names_the_tenant_field():
    t = _tenants("staging")
    t[2]["slug"] = "Texas"
    problems = _problems(_with("staging", tenants=t))
    assert ("tenants[2].slug" in _keys(problems)) and "lowercase" in problems[0][1]


def test_slug_starting_with_underscore_is_rejected():
    t = _tenants("staging")
    t[0]["slug"] = "_nc"
    assert "tenants[0].slug" in _keys(_problems(_with("staging", tenants=t)))


def test_zero_white_label_id_is_rejected():
    t = _tenants("staging")
    t[1]["whiteLabelId"] = 0
    problems = _problems(_with("staging", tenants=t))
    assert _keys(problems) == {"tenants[1].whiteLabelId"} and "positive" in problems[0][1]


def test_non_integer_white_label_id_is_rejected():
    t = _tenants("staging")
    t[1]["whiteLabelId"] = "one"
    assert "tenants[1].whiteLabelId" in _keys(_problems(_with("staging", tenants=t)))


def test_duplicate_white_label_id_names_both_tenants():
    t = _tenants("staging")
    t[1]["whiteLabelId"] = t[0]["whiteLabelId"]
    problems = _problems(_with("staging", tenants=t))
    assert _keys(problems) == {"tenants"}
    assert t[0]["slug"] in problems[0][1] and t[1]["slug"] in problems[0][1]


def test_role_name_over_63_bytes_is_rejected():
    t = _tenants("staging")
    t[0]["slug"] = "a" * 56
    problems = _problems(_with("staging", tenants=t))
    assert "tenants[0]" in _keys(problems) and "63" in problems[0][1]


def test_misspelled_tenant_field_is_rejected():
    t = _tenants("staging")
    t[0]["whitelabelId"] = t[0].pop("whiteLabelId")
    keys = _keys(_problems(_with("staging", tenants=t)))
    assert "tenants[0].whitelabelId" in keys and "tenants[0].whiteLabelId" in keys


def test_dyno_below_standard_2x_is_rejected_with_the_reason():
    problems = _problems(_with("production", herokuDynoSize="standard-1x"))
    assert _keys(problems) == {"herokuDynoSize"} and "standard-2x" in problems[0][1]


def test_unknown_dyno_size_lists_the_valid_ones():
    problems = _problems(_with("production", herokuDynoSize="huge"))
    assert _keys(problems) == {"herokuDynoSize"} and "performance-m" in problems[0][1]


@pytest.mark.parametrize("version", ["latest", "0.56.19", "v0.56", "v0.56.x", "v0.56.19-beta"])
def test_metabase_version_must_be_an_exact_tag(version):
    problems = _problems(_with("production", metabaseVersion=version))
    assert _keys(problems) == {"metabaseVersion"} and "vX.Y.Z" in problems[0][1]


def test_environment_must_be_staging_or_production():
    problems = _problems(_with("staging", environment="dev"))
    assert _keys(problems) == {"environment"} and "staging" in problems[0][1]


def test_production_refuses_a_shared_tenant_credential():
    problems = _problems(_with("production", databaseTenantCredentialMode="shared"))
    assert _keys(problems) == {"databaseTenantCredentialMode"}


def test_staging_may_use_a_shared_tenant_credential():
    cfg = StackConfig.from_mapping(_with("staging", databaseTenantCredentialMode="shared"))
    assert cfg.database.tenant_credential_mode == "shared"


def test_unknown_credential_mode_is_rejected():
    problems = _problems(_with("staging", databaseTenantCredentialMode="magic"))
    assert _keys(problems) == {"databaseTenantCredentialMode"} and "heroku" in problems[0][1]


def test_missing_heroku_team_says_how_to_set_it():
    problems = _problems(_with("staging", herokuTeam=None))
    assert _keys(problems) == {"herokuTeam"}
    assert f"pulumi config set {PROJECT}:herokuTeam" in problems[0][1]


def test_blank_heroku_region_is_rejected():
    problems = _problems(_with("staging", herokuRegion=" "))
    assert _keys(problems) == {"herokuRegion"}


def test_production_without_pipeline_reference_is_rejected():
    problems = _problems(_with("production", herokuPipelineOwnerStack=""))
    assert _keys(problems) == {"herokuPipelineOwnerStack"}


def test_misspelled_top_level_key_suggests_the_right_one():
    raw = _with("staging")
    raw["herokuDynosize"] = "standard-2x"
    problems = _problems(raw)
    assert _keys(problems) == {"herokuDynosize"} and "herokuDynoSize" in problems[0][1]


def test_bad_github_repository_is_rejected():
    problems = _problems(_with("staging", githubRepository="data-queries"))
    assert _keys(problems) == {"githubRepository"} and "owner/name" in problems[0][1]


def test_bad_admin_email_is_rejected():
    problems = _problems(_with("staging", metabaseAdminEmail="admin"))
    assert _keys(problems) == {"metabaseAdminEmail"}


def test_non_integer_port_is_rejected():
    problems = _problems(_with("staging", databasePort="fifty"))
    assert _keys(problems) == {"databasePort"} and "integer" in problems[0][1]


def test_every_problem_is_reported_at_once():
    t = _tenants("production")
    t[0]["slug"] = "NC"
    problems = _problems(
        _with("production", tenants=t, herokuDynoSize="basic", metabaseVersion="latest")
    )
    assert {"tenants[0].slug", "herokuDynoSize", "metabaseVersion"} <= _keys(problems)


def test_error_text_prefixes_keys_with_the_project_namespace():
    with pytest.raises(ConfigError) as info:
        StackConfig.from_mapping(_with("staging", herokuDynoSize="eco"), "staging")
    assert f"{PROJECT}:herokuDynoSize" in str(info.value) and "'staging'" in str(info.value)


# ---- documentation ------------------------------------------------------------------------
def _pulumi_yaml() -> tuple[dict[str, Any], str]:
    text = (REPO / "Pulumi.yaml").read_text()
    return yaml.safe_load(text), text


def test_every_scalar_key_is_declared_in_pulumi_yaml():
    doc, _ = _pulumi_yaml()
    declared = {k.split(":", 1)[1] for k in doc["config"]}
    structured = {"tenants", "metabaseAdopt"}  # documented in the header comment instead
    assert set(KEYS) - structured <= declared
    header = (REPO / "Pulumi.yaml").read_text().split("\nconfig:", 1)[0]
    assert all(f"#   {k}:" in header for k in structured)


def test_every_declared_key_is_read_by_the_program():
    doc, _ = _pulumi_yaml()
    declared = {k.split(":", 1)[1] for k in doc["config"]}
    assert declared <= set(KEYS) | set(SECRET_KEYS)


def test_every_declaration_has_type_and_description():
    doc, _ = _pulumi_yaml()
    missing = [k for k, d in doc["config"].items() if not d.get("type") or not d.get("description")]
    assert missing == []


def test_required_secrets_are_declared_secret():
    doc, _ = _pulumi_yaml()
    for key, (required, _src) in SECRET_KEYS.items():
        if required:
            assert doc["config"][f"{PROJECT}:{key}"].get("secret") is True, key


def test_structured_and_optional_secret_keys_are_documented_in_comments():
    doc, text = _pulumi_yaml()
    declared = {k.split(":", 1)[1] for k in doc["config"]}
    undocumented = [k for k in (set(KEYS) | set(SECRET_KEYS)) - declared if f"#   {k}:" not in text]
    assert undocumented == []


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_stack_files_hold_no_plain_secret(stack):
    doc = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    for key in SECRET_KEYS:
        value = doc["config"].get(f"{PROJECT}:{key}")
        assert value is None or (isinstance(value, dict) and "secure" in value), key


# ---- tenant role limits (issue 11) -------------------------------------------------------------
def test_tenant_limits_have_sane_defaults():
    db = StackConfig.from_mapping(_raw("production"), "production").database
    assert (
        db.tenant_connection_limit,
        db.tenant_statement_timeout_ms,
        db.tenant_idle_in_transaction_timeout_ms,
        db.tenant_temp_file_limit_mb,
    ) == (10, 120_000, 60_000, 256)


@pytest.mark.parametrize(
    ("key", "value", "hint"),
    [
        ("databaseTenantConnectionLimit", "0", "outside 1..100"),
        ("databaseTenantConnectionLimit", "-1", "outside 1..100"),
        ("databaseTenantStatementTimeoutMs", "0", "0 would mean no limit"),
        ("databaseTenantIdleInTransactionTimeoutMs", "999", "1000..3600000"),
        ("databaseTenantTempFileLimitMb", "0", "outside 1..102400"),
        ("databaseTenantConnectionLimit", "ten", "must be an integer"),
    ],
)
def test_a_bad_tenant_limit_names_its_key_and_the_fix(key, value, hint):
    problems = _problems(_with("production", **{key: value}))
    assert [k for k, _ in problems] == [key] and hint in problems[0][1]


def test_every_tenant_limit_key_is_documented_in_pulumi_yaml():
    documented = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["config"]
    for key in KEYS:
        if key.startswith("databaseTenant") and key != "databaseTenantCredentialMode":
            assert f"{PROJECT}:{key}" in documented and documented[f"{PROJECT}:{key}"]["default"]
