#!/usr/bin/env bash
# Set up a fresh machine for this project: PostgreSQL server binaries (if missing), the
# project's virtualenv at .venv (the one Pulumi.yaml names) with pinned dependencies, and the
# `mfb-infra` console script. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

have_pg() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; }

if ! have_pg; then
  echo "==> installing PostgreSQL server binaries (Debian package 'postgresql')"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  # initdb refuses to run as root; the test harness runs the server as this user
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

PY=${PYTHON:-python3}
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
