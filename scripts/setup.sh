#!/usr/bin/env bash
# Set up a machine for this project: PostgreSQL server binaries, the project's virtualenv at
# .venv (the one Pulumi.yaml names) with pinned dependencies, and the `mfb-infra` console script.
# Idempotent; safe to re-run.
#
#   bash scripts/setup.sh                  everything
#   bash scripts/setup.sh --postgres-only  only find (or, on Debian/Ubuntu, install) PostgreSQL
#
# PostgreSQL: an existing installation is used when its initdb and pg_ctl are found, in this
# order: $PG_BINDIR, PATH, `pg_config --bindir`, Debian's /usr/lib/postgresql/<v>/bin, Homebrew's
# <prefix>/opt/postgresql@<v>/bin, Postgres.app (mfb_infra/pgserver.py finds them the same way).
# Only on Debian/Ubuntu is a missing one installed (apt-get); anywhere else the script says what
# to install and stops.
set -euo pipefail
case "${1:-}" in
  "" | --postgres-only) ;;
  *) echo "usage: bash scripts/setup.sh [--postgres-only]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

# Where the script looks; tests point this at a fake filesystem root.
ROOT=${MFB_SETUP_ROOT:-}
PG_MAJOR_SUGGESTED=16
POSTGRES_APP_BIN=/Applications/Postgres.app/Contents/Versions/latest/bin

has_server_binaries() { [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ]; }

# newest-version-first candidates of one glob pattern (the version follows $2 in the path)
newest_first() {
  local pattern=$1 marker=$2 dir
  for dir in $pattern; do
    [ -d "$dir" ] || continue
    local rest=${dir#*"$marker"}
    printf '%s\t%s\n' "${rest%%/*}" "$dir"
  done | sort -t "$(printf '\t')" -k1,1nr | cut -f2
}

find_pg_bindir() {
  local dir
  if [ -n "${PG_BINDIR:-}" ]; then
    has_server_binaries "$PG_BINDIR" && { echo "$PG_BINDIR"; return 0; }
    echo "setup: PG_BINDIR=$PG_BINDIR has no initdb/pg_ctl" >&2
    return 1
  fi
  if command -v initdb >/dev/null 2>&1; then
    dir=$(dirname "$(command -v initdb)")
    has_server_binaries "$dir" && { echo "$dir"; return 0; }
  fi
  if command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir 2>/dev/null || true)
    [ -n "$dir" ] && has_server_binaries "$dir" && { echo "$dir"; return 0; }
  fi
  while IFS= read -r dir; do
    [ -n "$dir" ] && has_server_binaries "$dir" && { echo "$dir"; return 0; }
  done < <(
    newest_first "$ROOT/usr/lib/postgresql/*/bin" "$ROOT/usr/lib/postgresql/"
    newest_first "$ROOT/opt/homebrew/opt/postgresql@*/bin" "postgresql@"
    newest_first "$ROOT/usr/local/opt/postgresql@*/bin" "postgresql@"
  )
  for dir in "$ROOT/opt/homebrew/opt/postgresql/bin" "$ROOT/usr/local/opt/postgresql/bin" \
    "$ROOT$POSTGRES_APP_BIN"; do
    has_server_binaries "$dir" && { echo "$dir"; return 0; }
  done
  return 1
}

is_debian_like() {
  local release="$ROOT/etc/os-release"
  if [ -r "$release" ] && grep -Eqi '^(ID|ID_LIKE)=.*(debian|ubuntu)' "$release"; then
    return 0
  fi
  [ ! -r "$release" ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1
}

say_what_to_install() {
  echo "setup: no PostgreSQL server binaries (initdb, pg_ctl) found." >&2
  if [ "$(uname -s)" = "Darwin" ]; then
    cat >&2 <<EOF
Install PostgreSQL, then put its bin directory on PATH and run this script again. Either:
  brew install postgresql@$PG_MAJOR_SUGGESTED
  echo 'export PATH="$(brew --prefix 2>/dev/null || echo /opt/homebrew)/opt/postgresql@$PG_MAJOR_SUGGESTED/bin:\$PATH"' >> ~/.zshrc
or Postgres.app (https://postgresql.org/download/macosx, "Postgres.app"):
  echo 'export PATH="$POSTGRES_APP_BIN:\$PATH"' >> ~/.zshrc
then open a new terminal (or set PG_BINDIR to the directory holding initdb and pg_ctl).
EOF
  else
    cat >&2 <<EOF
Install your distribution's PostgreSQL server package (the one with initdb and pg_ctl, e.g.
'dnf install postgresql-server' or 'pacman -S postgresql'), put its bin directory on PATH (or
set PG_BINDIR to it), and run this script again. Only Debian/Ubuntu are installed automatically.
EOF
  fi
}

setup_postgres() {
  local bindir
  if bindir=$(find_pg_bindir); then
    echo "==> PostgreSQL server binaries: $bindir"
  elif is_debian_like; then
    echo "==> installing PostgreSQL server binaries (Debian package 'postgresql')"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    bindir=$(find_pg_bindir) || {
      echo "setup: apt-get installed 'postgresql' but initdb/pg_ctl are still missing" >&2
      return 1
    }
    echo "==> PostgreSQL server binaries: $bindir"
  else
    say_what_to_install
    return 1
  fi
  if [ "$(uname -s)" = "Linux" ] && [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    # initdb refuses to run as root; the test harness runs the server as this user
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
}

setup_postgres
[ "${1:-}" = "--postgres-only" ] && exit 0

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))' 2>/dev/null
then
  echo "setup: $PY is not Python 3.11 or 3.12 (the project's requires-python)." >&2
  echo "Install one (macOS: 'brew install python@3.12') and run: PYTHON=python3.12 bash $0" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
echo "==> installing the project and its pinned dependencies into .venv"
log=$(mktemp)
if ! .venv/bin/python -m pip install -q -e '.[dbt,dev]' >"$log" 2>&1; then
  grep -v "is ignored" "$log" | tail -40
  echo "setup: pip install failed (full log: $log)" >&2
  exit 1
fi
rm -f "$log"
# The policy pack (policy/) runs in its own virtualenv: pulumi-policy pins protobuf 5, dbt needs 6.
if [ ! -x policy/venv/bin/python ]; then "$PY" -m venv policy/venv; fi
policy/venv/bin/python -m pip install -q -r policy/requirements.txt >/dev/null
.venv/bin/mfb-infra --help >/dev/null
echo "==> ready: .venv/bin/mfb-infra"
