"""mfb_infra.pgserver.find_bindir: the same search as scripts/setup.sh, on a fake filesystem."""

from __future__ import annotations

from pathlib import Path

import pytest

from mfb_infra.pgserver import PgServerError, find_bindir


def _postgres_in(bindir: Path) -> Path:
    bindir.mkdir(parents=True, exist_ok=True)
    for name in ("initdb", "pg_ctl"):
        (bindir / name).write_text("#!/bin/sh\n")
        (bindir / name).chmod(0o755)
    return bindir


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """An empty PATH and no PG_BINDIR; tests add what they need under tmp_path/root."""
    monkeypatch.delenv("PG_BINDIR", raising=False)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    root = tmp_path / "root"
    root.mkdir()
    return root, monkeypatch


def test_initdb_on_path_wins(machine, tmp_path):
    root, mp = machine
    on_path = _postgres_in(tmp_path / "brew/bin")
    _postgres_in(root / "usr/lib/postgresql/15/bin")
    mp.setenv("PATH", str(on_path))
    assert find_bindir(root) == on_path


def test_pg_config_bindir_is_used_when_initdb_is_not_on_path(machine, tmp_path):
    root, mp = machine
    target = _postgres_in(tmp_path / "cellar/postgresql@16/bin")
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "pg_config").write_text(f'#!/bin/sh\n[ "$1" = --bindir ] && echo "{target}"\n')
    (tools / "pg_config").chmod(0o755)
    mp.setenv("PATH", str(tools))
    assert find_bindir(root) == target


def test_newest_debian_version_is_chosen_numerically(machine):
    root, _ = machine
    _postgres_in(root / "usr/lib/postgresql/9.6/bin")
    newest = _postgres_in(root / "usr/lib/postgresql/15/bin")
    assert find_bindir(root) == newest


@pytest.mark.parametrize("prefix", ["opt/homebrew", "usr/local"])
def test_newest_homebrew_postgres_is_found_off_path(machine, prefix):
    root, _ = machine
    _postgres_in(root / f"{prefix}/opt/postgresql@14/bin")
    newest = _postgres_in(root / f"{prefix}/opt/postgresql@16/bin")
    assert find_bindir(root) == newest


def test_postgres_app_is_found(machine):
    root, _ = machine
    app = _postgres_in(root / "Applications/Postgres.app/Contents/Versions/latest/bin")
    assert find_bindir(root) == app


def test_a_dir_with_initdb_but_no_pg_ctl_is_skipped(machine):
    root, _ = machine
    half = root / "usr/lib/postgresql/16/bin"
    _postgres_in(half)
    (half / "pg_ctl").unlink()
    whole = _postgres_in(root / "usr/lib/postgresql/15/bin")
    assert find_bindir(root) == whole


def test_nothing_found_says_what_to_install(machine):
    root, _ = machine
    with pytest.raises(PgServerError, match=r"brew install postgresql@16.*Postgres\.app"):
        find_bindir(root)


def test_pg_bindir_without_binaries_is_an_error_not_a_fallback(machine, tmp_path):
    root, mp = machine
    _postgres_in(root / "usr/lib/postgresql/15/bin")
    mp.setenv("PG_BINDIR", str(tmp_path))
    with pytest.raises(PgServerError, match="PG_BINDIR"):
        find_bindir(root)
