#!/usr/bin/env bash
# The project's test command: style (ruff) then the whole test suite (pytest), which starts its
# own throwaway PostgreSQL server. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
