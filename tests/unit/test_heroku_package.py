"""The components/heroku/ package keeps existing Pulumi state working.

Pulumi stores every dynamic resource's provider in state as a base64 dill pickle
(`pulumi.dynamic.dynamic.serialize_provider`), which names the provider class by its module path.
The dynamic-provider host unpickles it (`pulumi/dynamic/__main__.py` get_provider:
`dill.loads(base64.b64decode(props["__provider"]))`) in a process started from the program
directory, before `read`/`update`/`delete` run. State written before the move names
`components.heroku_promotion` / `components.heroku_credentials`.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# `__provider` values exactly as state holds them for resources created before the move:
# produced by running, in a checkout of commit befc500 (the last one with the flat modules),
#   python -c "from pulumi.dynamic.dynamic import serialize_provider; \
#     from components.heroku_promotion import PipelinePromotionProvider as P; \
#     print(serialize_provider(P()))"
# (and the same for components.heroku_credentials.HerokuCredentialProvider), pulumi 3.272.0.
OLD_STATE_PROVIDERS = {
    "components.heroku.promotion.PipelinePromotionProvider": (
        "gASVswAAAAAAAACMG2NvbXBvbmVudHMuaGVyb2t1X3Byb21vdGlvbpSMGVBpcGVsaW5lUHJvbW90aW9uUHJvdmlkZX"
        "KUk5QpgZR9lCiMCF9hcGlfa2V5lE6MB2FwaV91cmyUTowPYmFja29mZl9zZWNvbmRzlEc/8AAAAAAAAIwVcG9sbF9p"
        "bnRlcnZhbF9zZWNvbmRzlEdAFAAAAAAAAIwPdGltZW91dF9zZWNvbmRzlEdAjCAAAAAAAHViLg=="
    ),
    "components.heroku.credentials.HerokuCredentialProvider": (
        "gASV8QAAAAAAAACMHWNvbXBvbmVudHMuaGVyb2t1X2NyZWRlbnRpYWxzlIwYSGVyb2t1Q3JlZGVudGlhbFByb3ZpZG"
        "VylJOUKYGUfZQojAhfYXBpX2tleZROjA9iYWNrb2ZmX3NlY29uZHOURz/wAAAAAAAAjAhkYXRhX2FwaZSMG2h0dHBz"
        "Oi8vYXBpLmRhdGEuaGVyb2t1LmNvbZSMDHBsYXRmb3JtX2FwaZSMFmh0dHBzOi8vYXBpLmhlcm9rdS5jb22UjAxwb2"
        "xsX3NlY29uZHOUR0AUAAAAAAAAjA90aW1lb3V0X3NlY29uZHOUR0CCwAAAAAAAdWIu"
    ),
}

# What the host does with a `__provider` string, in a fresh interpreter whose cwd (and so
# sys.path[0]) is the repository root, as `python -m pulumi.dynamic` is started by the engine.
UNPICKLE = """
import base64, json, sys
import dill
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
provider = dill.loads(base64.b64decode(sys.argv[1]))
provider.configure(ConfigureRequest(Config({"heroku:apiKey": "k"}, "mfb-analytics")))
cls = type(provider)
print(json.dumps({"cls": f"{cls.__module__}.{cls.__qualname__}", "state": sorted(vars(provider))}))
"""


def _unpickle_in_host_like_process(serialized: str) -> dict:
    res = subprocess.run(
        [sys.executable, "-c", UNPICKLE, serialized],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout)


@pytest.mark.parametrize("new_class", sorted(OLD_STATE_PROVIDERS))
def test_a_provider_pickled_before_the_move_unpickles_to_the_moved_class(new_class):
    loaded = _unpickle_in_host_like_process(OLD_STATE_PROVIDERS[new_class])
    assert loaded["cls"] == new_class


def test_the_old_pickles_really_name_the_old_module_paths():
    # control: without the shims these paths would not import and the test above would fail
    names = [base64.b64decode(s) for s in OLD_STATE_PROVIDERS.values()]
    assert b"components.heroku_promotion" in names[0]
    assert b"components.heroku_credentials" in names[1]


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("components.heroku_promotion", "components.heroku.promotion", "PipelinePromotionProvider"),
        (
            "components.heroku_credentials",
            "components.heroku.credentials",
            "HerokuCredentialProvider",
        ),
    ],
)
def test_the_old_module_path_is_the_same_class_as_the_new(old, new, name):
    import importlib

    assert getattr(importlib.import_module(old), name) is getattr(
        importlib.import_module(new), name
    )


@pytest.mark.parametrize("module", ["components.heroku.promotion", "components.heroku.credentials"])
def test_new_resources_record_the_package_path(module):
    import importlib

    from pulumi.dynamic.dynamic import serialize_provider

    mod = importlib.import_module(module)
    cls = getattr(mod, "PipelinePromotionProvider", None) or mod.HerokuCredentialProvider
    raw = base64.b64decode(serialize_provider(cls()))
    assert module.encode() in raw and b"heroku_promotion" not in raw


def test_type_tokens_did_not_move_with_the_modules():
    from components.heroku.credentials import HerokuPostgresCredential
    from components.heroku.promotion import PipelinePromotion

    # the engine's type is pulumi-python:<_resource_type_name> (pulumi/dynamic/dynamic.py)
    assert (
        PipelinePromotion._resource_type_name,
        HerokuPostgresCredential._resource_type_name,
    ) == (
        "dynamic/heroku:PipelinePromotion",
        "dynamic/heroku:PostgresCredential",
    )


def test_the_production_program_registers_the_same_type_tokens(production_run):
    types = {r.type for r in production_run.registrations}
    assert {
        "mfb:heroku:MetabaseApp",
        "pulumi-python:dynamic/heroku:PostgresCredential",
    } <= types
