"""The Heroku image files: version pin, Dockerfile/heroku.yml shape, build tarball, entrypoint.

The entrypoint is executed with `sh` and a fake `java` on PATH that records its arguments and
environment, so the PORT mapping and the JDBC URL derived from DATABASE_URL are checked for real.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from components.config import ConfigError
from components.heroku import app as heroku

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "dashboards"
ENTRYPOINT = DASHBOARDS / "heroku-entrypoint.sh"
STACK_FILES = sorted(REPO.glob("Pulumi.*.yaml"))

FAKE_JAVA = """#!/bin/sh
python3 - "$@" <<'PY'
import json, os, sys
with open(os.environ["FAKE_JAVA_OUT"], "w") as f:
    json.dump({"args": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}, f)
PY
"""


def _dockerfile() -> str:
    return (DASHBOARDS / "Dockerfile.heroku").read_text()


def _instructions(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


# ---- version pin ---------------------------------------------------------------------------
@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_dockerfile_pins_the_stack_configs_metabase_version(stack_file):
    config = yaml.safe_load(stack_file.read_text())["config"]
    assert heroku.dockerfile_version() == config["mfb-analytics:metabaseVersion"]


def test_dockerfile_pin_is_an_exact_tag():
    assert re.fullmatch(r"v\d+\.\d+\.\d+", heroku.dockerfile_version())


def test_program_refuses_a_version_the_dockerfile_does_not_pin(tmp_path):
    image = tmp_path / "image"
    shutil.copytree(DASHBOARDS, image, ignore=shutil.ignore_patterns("*.md"))
    with pytest.raises(ConfigError, match="metabaseVersion"):
        heroku.prepare_image_source("v9.9.9", image, root=tmp_path)


# ---- Dockerfile and heroku.yml ---------------------------------------------------------------
def test_dockerfile_replaces_the_base_entrypoint():
    entrypoints = [rest for word, rest in _instructions(_dockerfile()) if word == "ENTRYPOINT"]
    assert [json.loads(e) for e in entrypoints] == [["/app/heroku-entrypoint.sh"]]


def test_dockerfile_has_no_cmd():
    assert "CMD" not in [word for word, _ in _instructions(_dockerfile())]


def test_dockerfile_copies_relative_to_its_own_directory():
    copies = [rest.split() for word, rest in _instructions(_dockerfile()) if word == "COPY"]
    sources = [parts[0] for parts in copies]
    assert sources == ["heroku-entrypoint.sh"] and (DASHBOARDS / sources[0]).is_file()


def test_heroku_yml_builds_the_web_process_from_the_dockerfile_beside_it():
    doc = yaml.safe_load((DASHBOARDS / "heroku.yml").read_text())
    assert doc["build"] == {"docker": {"web": "Dockerfile.heroku"}}


def test_heroku_yml_has_no_run_section():
    assert "run" not in yaml.safe_load((DASHBOARDS / "heroku.yml").read_text())


def test_entrypoint_execs_java_on_the_jar_without_run_metabase_sh():
    text = ENTRYPOINT.read_text()
    assert re.search(r"^exec java .*-jar ", text, re.M) and "run_metabase.sh" not in re.sub(
        r"#.*", "", text
    )


# ---- build source ----------------------------------------------------------------------------
def _members(data: bytes) -> dict[str, int]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: m.mode for m in tar.getmembers()}


def test_build_tarball_holds_exactly_the_image_files_at_its_root():
    assert sorted(_members(heroku.source_tarball_bytes())) == sorted(heroku.IMAGE_FILES)


def test_build_tarball_entrypoint_is_executable():
    assert _members(heroku.source_tarball_bytes())["heroku-entrypoint.sh"] & 0o111 == 0o111


def test_build_tarball_is_reproducible():
    assert heroku.source_tarball_bytes() == heroku.source_tarball_bytes()


def test_prepared_tarball_is_the_one_the_build_uploads(tmp_path):
    image = heroku.prepare_image_source(heroku.dockerfile_version(), root=tmp_path)
    assert (tmp_path / image.path).read_bytes() == heroku.source_tarball_bytes()


@pytest.mark.parametrize("name", heroku.IMAGE_FILES)
def test_image_digest_changes_when_an_image_file_changes(name, tmp_path):
    image = tmp_path / "image"
    image.mkdir()
    for f in heroku.IMAGE_FILES:
        shutil.copy(DASHBOARDS / f, image / f)
    before = heroku.image_digest(image)
    (image / name).write_text((image / name).read_text() + "\n# changed\n")
    assert heroku.image_digest(image) != before


# ---- the entrypoint, executed -------------------------------------------------------------------
@pytest.fixture
def boot(tmp_path):
    """Run the entrypoint with `sh`, a fake java and the given environment."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").write_text(FAKE_JAVA)
    (bin_dir / "java").chmod(0o755)
    jar = tmp_path / "app" / "metabase.jar"
    jar.parent.mkdir()
    jar.write_bytes(b"")
    out = tmp_path / "java.json"

    def run(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess, dict | None]:
        full = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_JAVA_OUT": str(out),
            "METABASE_JAR": str(jar),
            **env,
        }
        proc = subprocess.run(
            ["sh", str(ENTRYPOINT), *args], env=full, capture_output=True, text=True, timeout=30
        )
        return proc, (json.loads(out.read_text()) if out.exists() else None)

    return run


BASE = {"PORT": "41234", "DATABASE_URL": "postgres://u1:pw@db.example.com:5433/d1"}


def _query(jdbc: str) -> dict[str, str]:
    """Decode the JDBC query the way the driver does (URLDecoder: %XX and '+' -> space)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(jdbc.removeprefix("jdbc:")).query).items()}


def test_entrypoint_maps_port_to_jetty_port(boot):
    _, java = boot(BASE)
    assert java["env"]["MB_JETTY_PORT"] == "41234"


def test_entrypoint_derives_the_jdbc_url_from_database_url(boot):
    _, java = boot(BASE)
    assert java["env"]["MB_DB_CONNECTION_URI"] == (
        "jdbc:postgresql://db.example.com:5433/d1?sslmode=require&user=u1&password=pw"
    )


def test_entrypoint_defaults_the_postgres_port(boot):
    _, java = boot({**BASE, "DATABASE_URL": "postgresql://u1:pw@db.example.com/d1"})
    assert java["env"]["MB_DB_CONNECTION_URI"].startswith(
        "jdbc:postgresql://db.example.com:5432/d1?"
    )


@pytest.mark.parametrize(
    ("escaped", "password"),
    [
        ("p%40ss%3Aw%2Frd", "p@ss:w/rd"),
        ("a%2Bb+c", "a+b+c"),  # a literal '+' in a URL's userinfo is a plus, not a space
        ("100%25%26x%3Dy%3F%23", "100%&x=y?#"),
        ("sp%20ace%C3%A9", "sp aceé"),
    ],
)
def test_entrypoint_passes_url_escaped_passwords_through_intact(boot, escaped, password):
    _, java = boot({**BASE, "DATABASE_URL": f"postgres://u1:{escaped}@h.example.com:5432/d1"})
    assert _query(java["env"]["MB_DB_CONNECTION_URI"])["password"] == password


def test_entrypoint_decodes_an_escaped_user(boot):
    _, java = boot({**BASE, "DATABASE_URL": "postgres://us%40er:pw@h.example.com:5432/d1"})
    assert _query(java["env"]["MB_DB_CONNECTION_URI"])["user"] == "us@er"


def test_entrypoint_requires_ssl(boot):
    _, java = boot(BASE)
    assert _query(java["env"]["MB_DB_CONNECTION_URI"])["sslmode"] == "require"


def test_entrypoint_drops_stale_hand_set_connection_vars(boot):
    stale = {"MB_DB_HOST": "old", "MB_DB_USER": "old", "MB_DB_PASS": "old", "MB_DB_PORT": "1"}
    _, java = boot({**BASE, **stale})
    assert not set(stale) & set(java["env"])


def test_entrypoint_splits_java_heap_flags_without_globbing(boot):
    _, java = boot({**BASE, "JAVA_HEAP": "-Xmx672m -XX:Foo=*"})
    assert java["args"][:2] == ["-Xmx672m", "-XX:Foo=*"]


def test_entrypoint_has_a_heap_cap_when_java_heap_is_unset(boot):
    _, java = boot(BASE)
    assert any(re.fullmatch(r"-Xmx\d+m", a) for a in java["args"])


def test_entrypoint_runs_the_jar_and_forwards_arguments(boot):
    _, java = boot(BASE, "migrate", "release-locks")
    jar = java["env"]["METABASE_JAR"]
    assert java["args"][-4:] == ["-jar", jar, "migrate", "release-locks"]


def test_entrypoint_refuses_to_start_without_an_application_database(boot):
    proc, java = boot({"PORT": "1"})
    assert (proc.returncode != 0, java, "H2" in proc.stderr) == (True, None, True)


def test_entrypoint_refuses_a_malformed_database_url_without_showing_it(boot):
    proc, java = boot({**BASE, "DATABASE_URL": "mysql://u:s3cr3tpw@h/d"})
    assert (proc.returncode != 0, java, "s3cr3tpw" in proc.stderr + proc.stdout) == (
        True,
        None,
        False,
    )


def test_entrypoint_refuses_to_start_without_port(boot):
    proc, java = boot({"DATABASE_URL": BASE["DATABASE_URL"]})
    assert (proc.returncode != 0, java) == (True, None)
