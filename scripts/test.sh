#!/usr/bin/env bash
# The whole test suite: set-up (idempotent), lint, types, then pytest on the real services.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${CI:-}" = "true" ] && [ ! -d ../shared/data ]; then
  echo "error: ../shared/data is required when CI=true" >&2
  exit 1
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .
.venv/bin/pytest "$@"
