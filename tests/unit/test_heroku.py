"""MetabaseApp under Pulumi mocks: what each stack declares, in which order, with which guards."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from components.config import HEROKU_DYNO_MEMORY_MB, METABASE_MIN_DYNO_MB, ConfigError
from components.heroku import app as heroku
from mfb_infra import program
from mfb_infra.program import (
    DEFAULT_STACK_REFERENCE_OUTPUTS,
    ProgramRun,
    Registration,
    is_secret,
    run_program,
    unwrap,
)

REPO = Path(__file__).resolve().parents[2]
OWNER_STACK = "MyFriendBen/mfb-analytics/staging"
TEAM_ID = "team-uuid-from-lookup"
CALLS = {"heroku:team/getTeam:getTeam": lambda args: {"id": TEAM_ID, "name": args["name"]}}

APP = "heroku:app/app:App"
ADDON = "heroku:addon/addon:Addon"
CONFIG = "heroku:app/configAssociation:ConfigAssociation"
PIPELINE = "heroku:pipeline/pipeline:Pipeline"
COUPLING = "heroku:pipeline/coupling:Coupling"
BUILD = "heroku:build/build:Build"
FORMATION = "heroku:formation/formation:Formation"
PROMOTION = "pulumi-python:dynamic/heroku:PipelinePromotion"
KEY = "random:index/randomPassword:RandomPassword"
COMPONENT = "mfb:heroku:MetabaseApp"


def _run(stack: str, overrides: dict | None = None, refs: dict | None = None) -> ProgramRun:
    return run_program(stack, overrides, stack_reference_outputs=refs, call_results=CALLS)


@pytest.fixture(scope="module")
def staging() -> ProgramRun:
    return _run("staging")


@pytest.fixture(scope="module")
def production() -> ProgramRun:
    """Production delivering the image by pipeline promotion (herokuProductionImage=promote)."""
    return _run("production", {"herokuProductionImage": "promote"})


@pytest.fixture(scope="module")
def production_rebuild() -> ProgramRun:
    """Production as its stack file has it: rebuilt from the identical source (the default)."""
    return _run("production")


def _children(run: ProgramRun) -> list[Registration]:
    return run.children_of(run.one(COMPONENT))


def _config_vars(run: ProgramRun) -> dict:
    return run.one(CONFIG).inputs["vars"]


def _sensitive_vars(run: ProgramRun) -> object:
    return run.one(CONFIG).inputs["sensitiveVars"]


def _staging_refs(**changes: str) -> dict:
    outputs = dict(DEFAULT_STACK_REFERENCE_OUTPUTS[OWNER_STACK])
    outputs.update(changes)
    return {OWNER_STACK: outputs}


@pytest.fixture
def monitors(monkeypatch) -> list:
    """The mock monitors of runs started in the test (to inspect runs that raised)."""
    made: list = []
    original = program._make_monitor_class

    def capturing():
        cls = original()

        class Capturing(cls):
            def __init__(self, mocks):
                super().__init__(mocks)
                made.append(self)

        return Capturing

    monkeypatch.setattr(program, "_make_monitor_class", capturing)
    return made


def _managed(monitor) -> list[Registration]:
    return [r for r in monitor.registrations if not r.read]


# ---- what each stack declares ------------------------------------------------------------
def test_staging_declares_the_full_set_under_the_component(staging):
    types = sorted(r.type for r in _children(staging))
    assert types == sorted([KEY, APP, ADDON, CONFIG, PIPELINE, COUPLING, BUILD, FORMATION])


def test_production_declares_the_full_set_under_the_component(production):
    types = sorted(r.type for r in _children(production))
    assert types == sorted([KEY, APP, ADDON, CONFIG, COUPLING, PROMOTION, FORMATION])


def test_production_creates_no_pipeline(production):
    assert production.of_type(PIPELINE) == []


def test_production_couples_into_the_staging_stacks_pipeline(production):
    coupling = production.one(COUPLING)
    assert (
        coupling.inputs["pipeline"]
        == DEFAULT_STACK_REFERENCE_OUTPUTS[OWNER_STACK]["herokuPipelineId"]
    )


def test_production_reads_the_pipeline_owner_through_a_stack_reference(production):
    ref = production.one("pulumi:pulumi:StackReference")
    assert ref.inputs["name"] == OWNER_STACK


def test_staging_couples_its_app_into_its_own_pipeline(staging):
    coupling, pipe, app = staging.one(COUPLING), staging.one(PIPELINE), staging.one(APP)
    assert (coupling.inputs["pipeline"], coupling.inputs["appId"]) == (
        f"{pipe.name}-id",
        f"{app.name}-id",
    )


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_each_stack_couples_at_its_own_stage(stack, staging, production):
    run = {"staging": staging, "production": production}[stack]
    assert run.one(COUPLING).inputs["stage"] == stack


def test_pipeline_is_named_from_config_and_owned_by_the_team(staging):
    pipe = staging.one(PIPELINE)
    assert (pipe.inputs["name"], pipe.inputs["owner"]) == (
        "mfb-metabase",
        {"id": TEAM_ID, "type": "team"},
    )


def test_pipeline_owner_is_looked_up_by_the_configured_team(staging):
    lookups = [args for token, args in staging.calls if token == "heroku:team/getTeam:getTeam"]
    assert lookups == [{"name": "myfriendben"}]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_app_runs_on_the_container_stack_in_the_team_and_region(stack, staging, production):
    app = {"staging": staging, "production": production}[stack].one(APP)
    assert app.inputs == {
        "name": f"mfb-metabase-{stack}",
        "region": "us",
        "stack": "container",
        "organization": {"name": "myfriendben"},
    }


def test_region_comes_from_config():
    run = _run("staging", {"herokuRegion": "eu"})
    assert run.one(APP).inputs["region"] == "eu"


def test_application_database_plan_defaults_to_essential_0(staging):
    assert staging.one(ADDON).inputs["plan"] == "heroku-postgresql:essential-0"


def test_application_database_plan_comes_from_config():
    run = _run("staging", {"herokuAddonPlan": "heroku-postgresql:essential-1"})
    assert run.one(ADDON).inputs["plan"] == "heroku-postgresql:essential-1"


def test_application_database_is_attached_to_the_metabase_app(staging):
    assert staging.one(ADDON).inputs["appId"] == f"{staging.one(APP).name}-id"


# ---- config vars ---------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["staging", "production"])
def test_encryption_key_is_a_secret_config_var(stack, staging, production):
    sensitive = _sensitive_vars({"staging": staging, "production": production}[stack])
    assert is_secret(sensitive) and "MB_ENCRYPTION_SECRET_KEY" in unwrap(sensitive)


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_encryption_key_is_not_a_plain_config_var(stack, staging, production):
    assert "MB_ENCRYPTION_SECRET_KEY" not in _config_vars(
        {"staging": staging, "production": production}[stack]
    )


def test_encryption_keys_differ_between_stacks(staging, production):
    keys = [unwrap(_sensitive_vars(r))["MB_ENCRYPTION_SECRET_KEY"] for r in (staging, production)]
    assert keys[0] != keys[1]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_encryption_key_is_generated_in_the_stack(stack, staging, production):
    run = {"staging": staging, "production": production}[stack]
    key = run.one(KEY)
    value = unwrap(_sensitive_vars(run))["MB_ENCRYPTION_SECRET_KEY"]
    assert value == program._fake_outputs(KEY, key.name, key.inputs)["result"]
    assert key.inputs["length"] >= 32


def test_site_url_is_the_app_url_without_trailing_slash(staging):
    web_url = program._fake_outputs(APP, "x", staging.one(APP).inputs)["webUrl"]
    assert _config_vars(staging)["MB_SITE_URL"] == web_url.rstrip("/")


def test_site_url_follows_the_metabase_url_override():
    run = _run("staging", {"metabaseUrl": "https://dashboards.example.org/"})
    assert _config_vars(run)["MB_SITE_URL"] == "https://dashboards.example.org"


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_database_credentials_are_not_copied_into_config_vars(stack, staging, production):
    run = {"staging": staging, "production": production}[stack]
    names = set(_config_vars(run)) | set(unwrap(_sensitive_vars(run)))
    stale_prone = {"MB_DB_HOST", "MB_DB_PORT", "MB_DB_DBNAME", "MB_DB_USER", "MB_DB_PASS"}
    assert names.isdisjoint(stale_prone | {"MB_DB_CONNECTION_URI", "DATABASE_URL"})


def test_database_type_is_postgres(staging):
    assert _config_vars(staging)["MB_DB_TYPE"] == "postgres"


@pytest.mark.parametrize("size", ["standard-2x", "performance-m", "performance-l"])
def test_java_heap_leaves_non_heap_headroom_on_the_dyno(size):
    run = _run("staging", {"herokuDynoSize": size})
    heap = int(re.fullmatch(r"-Xmx(\d+)m", _config_vars(run)["JAVA_HEAP"]).group(1))
    dyno = HEROKU_DYNO_MEMORY_MB[size]
    assert dyno - heap >= max(heroku.NON_HEAP_MIN_MB, dyno // 4)


@pytest.mark.parametrize(
    "size", [s for s, mb in HEROKU_DYNO_MEMORY_MB.items() if mb >= METABASE_MIN_DYNO_MB]
)
def test_java_heap_is_at_least_60_percent_of_any_allowed_dyno(size):
    dyno = HEROKU_DYNO_MEMORY_MB[size]
    assert heroku.java_heap_mb(dyno) >= 0.6 * dyno


# ---- image delivery and ordering -------------------------------------------------------------
def test_production_has_no_build(production):
    assert production.of_type(BUILD) == []


def test_staging_has_no_promotion(staging):
    assert staging.of_type(PROMOTION) == []


def test_staging_formation_depends_on_the_build(staging):
    assert staging.one(BUILD).urn in staging.one(FORMATION).dependencies


def test_production_formation_depends_on_the_promotion(production):
    assert production.one(PROMOTION).urn in production.one(FORMATION).dependencies


@pytest.mark.parametrize("dependency", [CONFIG, ADDON, COUPLING])
def test_build_waits_for_what_the_first_boot_needs(dependency, staging):
    assert staging.one(dependency).urn in staging.one(BUILD).dependencies


@pytest.mark.parametrize("dependency", [CONFIG, ADDON, COUPLING])
def test_promotion_waits_for_what_the_first_boot_needs(dependency, production):
    assert production.one(dependency).urn in production.one(PROMOTION).dependencies


def test_formation_size_and_quantity_come_from_config():
    run = _run("staging", {"herokuDynoSize": "performance-m", "herokuDynoQuantity": 2})
    f = run.one(FORMATION).inputs
    assert (f["type"], f["size"], f["quantity"]) == ("web", "performance-m", 2)


def test_build_uploads_the_image_tarball_tagged_with_version_and_digest(staging):
    source = staging.one(BUILD).inputs["source"]
    image = heroku.prepare_image_source("v0.56.19")
    assert source == {"path": image.path, "version": f"v0.56.19+{image.digest[:12]}"}


def test_build_source_path_is_relative_to_the_project(staging):
    assert not Path(staging.one(BUILD).inputs["source"]["path"]).is_absolute()


def test_promotion_promotes_the_staging_release_production_vetted(production):
    inputs = production.one(PROMOTION).inputs
    ref = DEFAULT_STACK_REFERENCE_OUTPUTS[OWNER_STACK]
    expected = {
        "pipeline_id": ref["herokuPipelineId"],
        "source_app_id": ref["metabaseAppId"],
        "target_app_id": f"{production.one(APP).name}-id",
        "expected_source_release_id": ref["metabaseReleaseId"],
        "source_version": ref["metabaseSourceVersion"],
    }
    assert {k: inputs.get(k) for k in expected} == expected


def test_production_with_a_pipeline_id_finds_the_staging_app_itself():
    run = _run(
        "production",
        {
            "herokuPipelineOwnerStack": None,
            "herokuPipelineId": "pipe-1",
            "herokuProductionImage": "promote",
        },
    )
    inputs = run.one(PROMOTION).inputs
    assert (
        inputs["pipeline_id"],
        inputs.get("source_app_id"),
        inputs.get("expected_source_release_id"),
    ) == (
        "pipe-1",
        None,
        None,
    )


def test_production_with_a_pipeline_id_promotes_only_this_checkouts_image():
    run = _run(
        "production",
        {
            "herokuPipelineOwnerStack": None,
            "herokuPipelineId": "pipe-1",
            "herokuProductionImage": "promote",
        },
    )
    image = heroku.prepare_image_source("v0.56.19")
    assert run.one(PROMOTION).inputs["source_version"] == image.source_version


def test_production_stack_rebuilds_by_default(production_rebuild):
    assert production_rebuild.of_type(PROMOTION) == []


def test_rebuild_builds_production_from_the_source_staging_runs(production_rebuild):
    staging_source = DEFAULT_STACK_REFERENCE_OUTPUTS[OWNER_STACK]["metabaseSourceVersion"]
    assert production_rebuild.one(BUILD).inputs["source"]["version"] == staging_source


def test_rebuild_formation_depends_on_the_build(production_rebuild):
    run = production_rebuild
    assert run.one(BUILD).urn in run.one(FORMATION).dependencies


def test_rebuild_refuses_a_source_staging_does_not_run(monitors):
    refs = _staging_refs(metabaseSourceVersion="v0.56.19+000000000000")
    with pytest.raises(ConfigError, match="deploy them to staging first"):
        _run("production", refs=refs)
    assert [r.type for m in monitors for r in _managed(m)] == []


def test_preview_of_an_image_change_warns_instead_of_failing(caplog):
    """A PR changing the image cannot match staging before merge: its preview must still run."""
    refs = _staging_refs(metabaseSourceVersion="v0.56.19+000000000000")
    with caplog.at_level(logging.WARNING):
        run = run_program(
            "production", stack_reference_outputs=refs, call_results=CALLS, preview=True
        )
    assert run.of_type(APP) and "deploy them to staging first" in caplog.text


# ---- data protection -------------------------------------------------------------------------
@pytest.mark.parametrize("typ", [APP, ADDON, KEY])
def test_production_data_holders_are_protected(typ, production):
    assert production.one(typ).protect


def test_production_application_database_is_retained_on_delete(production):
    assert production.one(ADDON).retain_on_delete


@pytest.mark.parametrize("typ", [APP, ADDON, KEY])
def test_staging_can_be_torn_down(typ, staging):
    r = staging.one(typ)
    assert (r.protect, r.retain_on_delete) == (False, False)


def test_shared_pipeline_is_protected(staging):
    assert staging.one(PIPELINE).protect


# ---- outputs -------------------------------------------------------------------------------
def test_staging_exports_everything_production_reads(staging):
    assert set(heroku.STAGING_REFERENCE_KEYS) <= set(staging.stack_outputs)


def test_staging_exports_the_build_release(staging):
    build = staging.one(BUILD)
    assert (
        staging.stack_outputs["metabaseReleaseId"]
        == program._fake_outputs(BUILD, build.name, build.inputs)["releaseId"]
    )


def test_production_exports_the_promoted_release(production):
    promo = production.one(PROMOTION)
    assert (
        production.stack_outputs["metabaseReleaseId"]
        == program._fake_outputs(PROMOTION, promo.name, promo.inputs)["release_id"]
    )


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_health_url_is_the_site_url_plus_api_health(stack, staging, production):
    run = {"staging": staging, "production": production}[stack]
    outs = run.stack_outputs
    assert outs["metabaseHealthUrl"] == outs["metabaseUrl"] + "/api/health"


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_exports_app_name_pipeline_and_version(stack, staging, production):
    outs = {"staging": staging, "production": production}[stack].stack_outputs
    assert (outs["metabaseAppName"], outs["herokuPipelineId"], outs["metabaseVersion"]) == (
        f"mfb-metabase-{stack}",
        "mfb-metabase-id",
        "v0.56.19",
    )


def test_component_registers_its_outputs(staging):
    assert set(staging.one(COMPONENT).outputs) >= {
        "app_name",
        "app_id",
        "url",
        "health_url",
        "pipeline_id",
        "release_id",
        "version",
    }


# ---- bad input: clear errors, nothing registered ---------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "key", "phrase"),
    [
        ({"herokuDynoSize": "standard-1x"}, "herokuDynoSize", "standard-2x"),
        ({"herokuDynoSize": "basic"}, "herokuDynoSize", "OOM"),
        ({"metabaseVersion": "latest"}, "metabaseVersion", "vX.Y.Z"),
        ({"metabaseVersion": "v0.56"}, "metabaseVersion", "vX.Y.Z"),
        ({"herokuTeam": None}, "herokuTeam", ""),
        ({"herokuRegion": " "}, "herokuRegion", "blank"),
    ],
)
def test_bad_heroku_config_fails_before_registering(overrides, key, phrase, monitors):
    with pytest.raises(ConfigError) as err:
        _run("staging", overrides)
    assert f"mfb-analytics:{key}" in str(err.value) and phrase in str(err.value)
    assert _managed(monitors[-1]) == []


def test_version_not_matching_the_dockerfile_fails_before_registering(monitors):
    with pytest.raises(ConfigError, match=r"metabaseVersion.*Dockerfile.heroku"):
        _run("staging", {"metabaseVersion": "v0.57.0"})
    assert _managed(monitors[-1]) == []


def test_unresolvable_pipeline_reference_registers_nothing(monitors):
    with pytest.raises(Exception):  # noqa: B017 - the runtime reports the failed read itself
        _run("production", {"herokuPipelineOwnerStack": "org/mfb-analytics/nope"})
    assert _managed(monitors[-1]) == []


def test_unresolvable_pipeline_reference_logs_the_key_to_fix(caplog):
    with caplog.at_level(logging.ERROR), pytest.raises(Exception):  # noqa: B017
        _run("production", {"herokuPipelineOwnerStack": "org/mfb-analytics/nope"})
    assert any(
        "herokuPipelineOwnerStack" in r.getMessage() and "org/mfb-analytics/nope" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.ERROR
    )


@pytest.mark.parametrize("missing", heroku.STAGING_REFERENCE_KEYS)
def test_reference_missing_an_output_names_it(missing, monitors):
    refs = _staging_refs()
    del refs[OWNER_STACK][missing]
    with pytest.raises(ConfigError, match=rf"herokuPipelineOwnerStack:.*{missing}"):
        _run("production", refs=refs)
    assert _managed(monitors[-1]) == []


def test_production_refuses_when_staging_runs_another_version(monitors):
    refs = _staging_refs(metabaseVersion="v0.55.1", metabaseSourceVersion="v0.55.1+abc")
    with pytest.raises(ConfigError, match=r"metabaseVersion: production pins .* staging runs"):
        _run("production", refs=refs)
    assert _managed(monitors[-1]) == []


def test_production_refuses_when_staging_was_built_from_other_image_files(monitors):
    refs = _staging_refs(metabaseSourceVersion="v0.56.19+000000000000")
    with pytest.raises(ConfigError, match=r"image files"):
        _run("production", refs=refs)
    assert _managed(monitors[-1]) == []


def test_production_without_pipeline_reference_is_refused(monitors):
    with pytest.raises(ConfigError, match="herokuPipelineOwnerStack"):
        _run("production", {"herokuPipelineOwnerStack": None})
    assert _managed(monitors[-1]) == []
