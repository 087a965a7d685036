"""A throwaway PostgreSQL server run from the machine's PostgreSQL binaries (see find_bindir).

Used by the tests (real SQL, roles, RLS, dbt) and by `mfb-infra local up`. `initdb` refuses to
run as root, so when we are root every server command runs as the unprivileged `postgres` OS
user (`runuser -u postgres -- ...`) and the data/socket directories are handed to it.

    with PgServer.start(Path("/tmp/x")) as pg:
        pg.dsn("postgres")          # superuser DSN over TCP on 127.0.0.1
        pg.execute("select 1")
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
# Where installed server binaries live when they are not on PATH, newest version first within a
# pattern (scripts/setup.sh searches the same places in the same order).
VERSIONED_DIRS = (
    "usr/lib/postgresql/*/bin",  # Debian / Ubuntu packages
    "opt/homebrew/opt/postgresql@*/bin",  # Homebrew, Apple Silicon
    "usr/local/opt/postgresql@*/bin",  # Homebrew, Intel
)
FIXED_DIRS = (
    "opt/homebrew/opt/postgresql/bin",
    "usr/local/opt/postgresql/bin",
    "Applications/Postgres.app/Contents/Versions/latest/bin",
)


class PgServerError(RuntimeError):
    pass


def _has_server_binaries(d: Path) -> bool:
    return all(
        os.access(d / name, os.X_OK) and (d / name).is_file() for name in ("initdb", "pg_ctl")
    )


def _version_key(d: Path) -> tuple[int, ...]:
    """16 in .../postgresql/16/bin or .../postgresql@16/bin (0 when there is none)."""
    tail = d.parent.name.rpartition("@")[2]
    return tuple(int(x) for x in tail.split(".") if x.isdigit()) or (0,)


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return None
    res = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    return Path(res.stdout.strip()) if res.returncode == 0 and res.stdout.strip() else None


def find_bindir(root: Path = Path("/")) -> Path:
    """The directory holding initdb and pg_ctl: $PG_BINDIR, then PATH, then `pg_config
    --bindir`, then Debian's, Homebrew's and Postgres.app's install locations under `root`."""
    env = os.environ.get("PG_BINDIR")
    if env:
        if _has_server_binaries(Path(env)):
            return Path(env)
        raise PgServerError(f"PG_BINDIR={env} has no initdb and pg_ctl")
    found = shutil.which("initdb")
    # resolved: Homebrew's and this image's PATH entries are symlinks into the real bin dir
    candidates: list[Path] = [Path(os.path.realpath(found)).parent] if found else []
    from_pg_config = _pg_config_bindir()
    if from_pg_config:
        candidates.append(from_pg_config)
    for pattern in VERSIONED_DIRS:
        dirs = (Path(p) for p in glob.glob(str(root / pattern)))
        candidates += sorted(dirs, key=_version_key, reverse=True)
    candidates += [root / d for d in FIXED_DIRS]
    for c in candidates:
        if _has_server_binaries(c):
            return c
    raise PgServerError(
        "PostgreSQL server binaries not found (initdb and pg_ctl, searched PATH, `pg_config "
        "--bindir`, /usr/lib/postgresql/*/bin, Homebrew and Postgres.app). Install them: "
        "Debian/Ubuntu `sudo apt-get install -y postgresql`; macOS `brew install postgresql@16` "
        "or Postgres.app, with its bin directory on PATH (or set PG_BINDIR to it). "
        "`bash scripts/setup.sh` does this check too."
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_root() -> bool:
    return os.geteuid() == 0


def _run_as_server_user(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    if _as_root():
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, **kw)


@dataclass
class PgServer:
    """A running (or stopped) cluster under `root`: data in root/data, socket in root/run."""

    root: Path
    port: int
    bindir: Path

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def sockdir(self) -> Path:
        return self.root / "run"

    def dsn(
        self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None
    ) -> str:
        """A key=value DSN over TCP on 127.0.0.1 (libpq quoting, any characters)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host="127.0.0.1", port=self.port, user=user, password=password, dbname=dbname
        )

    def socket_uri(self, dbname: str = "postgres", user: str = SUPERUSER) -> str:
        """A libpq URI over the unix socket, host and port as query parameters (the form
        `postgresql://u@/db?host=/var/run/postgresql` users pass to `local up --dsn`)."""
        from urllib.parse import quote

        return (
            f"postgresql://{quote(user, safe='')}@/{quote(dbname, safe='')}"
            f"?host={quote(str(self.sockdir), safe='/')}&port={self.port}"
        )

    # --- lifecycle -------------------------------------------------------------------------
    @classmethod
    def start(cls, root: Path, port: int | None = None) -> PgServer:
        """Create (if needed) and start a cluster in `root`. Reuses an existing data dir."""
        root = Path(root).resolve()
        server = cls(root=root, port=port or _free_port(), bindir=find_bindir())
        server._init()
        server._start()
        return server

    def _chown(self, path: Path) -> None:
        if _as_root():
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.sockdir.mkdir(exist_ok=True)
        self._chown(self.root)
        self._chown(self.sockdir)
        if _as_root():
            # runuser needs to traverse every parent of root
            p = self.root
            while p != p.parent:
                mode = p.stat().st_mode
                if not mode & 0o001:
                    os.chmod(p, mode | 0o001)
                p = p.parent
        if (self.datadir / "PG_VERSION").exists():
            return
        res = _run_as_server_user(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        if res.returncode != 0:
            raise PgServerError(f"initdb failed in {self.datadir}:\n{res.stdout}\n{res.stderr}")
        conf = self.datadir / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\n# mfb throwaway server\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.sockdir}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "shared_buffers = '256MB'\nwork_mem = '32MB'\nmax_connections = 100\n"
            )
        # password auth over TCP for every role but the superuser, so tenant roles must log in
        # with their own password exactly as they would in production
        (self.datadir / "pg_hba.conf").write_text(
            "local all all trust\n"
            f"host all {SUPERUSER} 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )

    def _start(self) -> None:
        log = self.root / "server.log"
        res = _run_as_server_user(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-l",
                str(log),
                "-o",
                f"-p {self.port}",
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        if res.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise PgServerError(f"pg_ctl start failed (port {self.port}):\n{res.stderr}\n{tail}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise PgServerError(f"server on port {self.port} did not accept connections in 30 s")

    def stop(self) -> None:
        _run_as_server_user(
            [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"]
        )

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()

    # --- helpers ---------------------------------------------------------------------------
    def execute(
        self, sql: str, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None
    ) -> list[tuple]:
        """Run SQL (autocommit) and return the last statement's rows (empty if none)."""
        import psycopg

        with psycopg.connect(self.dsn(dbname, user, password), autocommit=True) as conn:
            cur = conn.execute(sql)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str) -> str:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)
