#!/usr/bin/env bash
# The demo: set-up (idempotent), then the service on the Ho Chi Minh City map with cameras,
# a simulated morning of traffic, a watchlist alert and a route to play back.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/platetrace demo "$@"
