"""The whole program under Pulumi's mocks: stacks evaluate; bad config registers nothing."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from mfb_infra.program import run_program


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_stack_evaluates_and_exports_its_environment(stack, request):
    run = request.getfixturevalue(f"{stack}_run")
    assert run.stack_outputs["environment"] == stack


def test_bad_config_fails_before_any_resource_is_registered():
    with pytest.raises(ConfigError) as info:
        run_program("production", {"herokuDynoSize": "basic"})
    assert "herokuDynoSize" in str(info.value)


def test_bad_config_leaves_no_registration_behind():
    import mfb_infra.program as program

    seen: list = []
    original = program.RecordingMocks.new_resource

    def spy(self, args):
        seen.append(args.typ)
        return original(self, args)

    program.RecordingMocks.new_resource = spy
    try:
        with pytest.raises(ConfigError):
            run_program("staging", {"metabaseVersion": "latest"})
    finally:
        program.RecordingMocks.new_resource = original
    assert seen == []


def test_missing_required_secret_is_named():
    with pytest.raises(ConfigError) as info:
        run_program("staging", {"databaseAdminPassword": None})
    assert "databaseAdminPassword" in str(info.value) and "--secret" in str(info.value)


def test_component_types_use_the_mfb_token_scheme(stack_run):
    components = {r.type for r in stack_run.registrations if not r.custom and not r.read}
    assert all(t.startswith("mfb:") for t in components), components


def test_every_custom_resource_is_parented_to_a_component(stack_run):
    components = {r.urn for r in stack_run.registrations if not r.custom}
    orphans = [
        r.name
        for r in stack_run.registrations
        if r.custom and not r.read and r.parent not in components
    ]
    assert orphans == []
