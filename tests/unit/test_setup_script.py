"""scripts/setup.sh's PostgreSQL branch on Debian, Ubuntu, other Linux and macOS.

Each test runs the real script (`--postgres-only`) with a fake PATH: fake `uname`, `id`,
`apt-get`, `sudo`, `dpkg`, `pg_config` and PostgreSQL binaries, and a fake filesystem root
(MFB_SETUP_ROOT) holding /etc/os-release and the install locations the script searches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / "scripts" / "setup.sh"
BASH = shutil.which("bash") or "/bin/bash"
# what the script itself needs besides the commands each test fakes
REAL_TOOLS = ("dirname", "grep", "sort", "cut", "cat")

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'
UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\n'


class Machine:
    def __init__(self, tmp: Path, system: str, os_release: str | None = None) -> None:
        self.tmp = tmp
        self.root = tmp / "root"
        self.bin = tmp / "bin"
        self.log = tmp / "calls.log"
        self.extra_path: list[Path] = []
        self.root.mkdir()
        self.bin.mkdir()
        self.log.touch()
        for tool in REAL_TOOLS:
            found = shutil.which(tool)
            assert found, f"{tool} missing on this machine"
            (self.bin / tool).symlink_to(found)
        self.fake("uname", f'echo "{system}"')
        self.fake("id", 'case "$1" in -u) echo 1000 ;; *) exit 0 ;; esac')
        if os_release is not None:
            (self.root / "etc").mkdir()
            (self.root / "etc" / "os-release").write_text(os_release)

    def fake(self, name: str, body: str, where: Path | None = None) -> Path:
        path = (where or self.bin) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'#!/bin/sh\necho "{name} $*" >> "{self.log}"\n{body}\n')
        path.chmod(0o755)
        return path

    def postgres_in(self, bindir: Path) -> Path:
        for name in ("initdb", "pg_ctl"):
            self.fake(name, "exit 0", bindir)
        return bindir

    def apt(self, with_dpkg: bool = True) -> None:
        """apt-get whose `install postgresql` lays out Debian's /usr/lib/postgresql/16/bin."""
        target = self.root / "usr/lib/postgresql/16/bin"
        self.fake(
            "apt-get",
            f'case " $* " in *" install "*) /bin/mkdir -p "{target}" && for b in initdb pg_ctl; '
            f'do printf "#!/bin/sh\\n" > "{target}/$b"; /bin/chmod 755 "{target}/$b"; done ;; '
            "esac",
        )
        self.fake("sudo", '"$@"')
        if with_dpkg:
            self.fake("dpkg", "exit 0")

    def run(self, **env: str) -> subprocess.CompletedProcess:
        path = os.pathsep.join(str(p) for p in [*self.extra_path, self.bin])
        return subprocess.run(
            [BASH, str(SETUP), "--postgres-only"],
            env={"PATH": path, "HOME": str(self.tmp), "MFB_SETUP_ROOT": str(self.root), **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self, name: str) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.split()[0] == name]


# ---- macOS --------------------------------------------------------------------------------
def test_mac_uses_postgres_binaries_on_path(tmp_path):
    m = Machine(tmp_path, "Darwin")
    bindir = m.postgres_in(tmp_path / "opt/homebrew/bin")
    m.extra_path.append(bindir)
    res = m.run()
    assert (res.returncode, f"binaries: {bindir}" in res.stdout) == (0, True), res.stderr


def test_mac_uses_pg_config_bindir_when_initdb_is_not_on_path(tmp_path):
    m = Machine(tmp_path, "Darwin")
    bindir = m.postgres_in(tmp_path / "cellar/postgresql@16/16.4/bin")
    m.fake("pg_config", f'[ "$1" = --bindir ] && echo "{bindir}"')
    res = m.run()
    assert (res.returncode, f"binaries: {bindir}" in res.stdout) == (0, True), res.stderr


def test_mac_finds_the_newest_homebrew_postgres_off_path(tmp_path):
    m = Machine(tmp_path, "Darwin")
    for version in ("9", "14", "16"):
        m.postgres_in(m.root / f"opt/homebrew/opt/postgresql@{version}/bin")
    res = m.run()
    assert "postgresql@16/bin" in res.stdout and res.returncode == 0, res.stderr


def test_mac_finds_postgres_app(tmp_path):
    m = Machine(tmp_path, "Darwin")
    m.postgres_in(m.root / "Applications/Postgres.app/Contents/Versions/latest/bin")
    res = m.run()
    assert "Postgres.app" in res.stdout and res.returncode == 0, res.stderr


def test_mac_without_postgres_says_what_to_install_and_fails(tmp_path):
    m = Machine(tmp_path, "Darwin")
    res = m.run()
    assert res.returncode != 0
    assert "brew install postgresql@16" in res.stderr
    assert "/Applications/Postgres.app/Contents/Versions/latest/bin:$PATH" in res.stderr


def test_mac_never_runs_apt_get_even_when_one_is_on_path(tmp_path):
    m = Machine(tmp_path, "Darwin")
    m.apt(with_dpkg=False)
    res = m.run()
    assert (res.returncode != 0, m.calls("apt-get")) == (True, [])


# ---- Linux --------------------------------------------------------------------------------
@pytest.mark.parametrize("os_release", [DEBIAN, UBUNTU], ids=["debian", "ubuntu"])
def test_debian_and_ubuntu_install_the_postgresql_package_when_missing(tmp_path, os_release):
    m = Machine(tmp_path, "Linux", os_release)
    m.apt()
    res = m.run()
    assert res.returncode == 0, res.stderr
    assert m.calls("apt-get") == [
        "apt-get update -qq",
        "apt-get install -y -qq postgresql",
    ]


def test_apt_runs_through_sudo_when_not_root(tmp_path):
    m = Machine(tmp_path, "Linux", DEBIAN)
    m.apt()
    m.run()
    assert len(m.calls("sudo")) == 2


def test_debian_with_postgres_installed_does_not_run_apt(tmp_path):
    m = Machine(tmp_path, "Linux", DEBIAN)
    m.apt()
    m.postgres_in(m.root / "usr/lib/postgresql/15/bin")
    res = m.run()
    assert (res.returncode, m.calls("apt-get")) == (0, []), res.stderr


def test_other_linux_never_runs_apt_and_says_what_to_install(tmp_path):
    m = Machine(tmp_path, "Linux", FEDORA)
    m.apt()
    res = m.run()
    assert (res.returncode != 0, m.calls("apt-get")) == (True, [])
    assert "Only Debian/Ubuntu are installed automatically" in res.stderr


def test_pg_bindir_wins_over_everything(tmp_path):
    m = Machine(tmp_path, "Linux", DEBIAN)
    m.postgres_in(m.root / "usr/lib/postgresql/15/bin")
    chosen = m.postgres_in(tmp_path / "custom/bin")
    res = m.run(PG_BINDIR=str(chosen))
    assert f"binaries: {chosen}" in res.stdout, res.stderr


# ---- lint ---------------------------------------------------------------------------------
SHELLCHECK = Path(sys.executable).parent / "shellcheck"


@pytest.mark.parametrize("script", ["setup.sh", "test.sh"])
def test_scripts_pass_shellcheck(script):
    res = subprocess.run(
        [str(SHELLCHECK), str(REPO / "scripts" / script)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout


def test_shellcheck_reports_an_unquoted_variable(tmp_path):
    # control: the linter above really runs and fails on a finding
    bad = tmp_path / "bad.sh"
    bad.write_text('#!/usr/bin/env bash\nx="a b"\nls $x\n')
    res = subprocess.run([str(SHELLCHECK), str(bad)], capture_output=True, text=True)
    assert res.returncode != 0 and "SC2086" in res.stdout
