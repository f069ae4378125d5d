#!/usr/bin/env bash
# Takes a fresh Debian 12 machine (as root) to a working platetrace: system packages,
# PostgreSQL + PostGIS, Redis, the database, and a virtual environment at .venv.
# Idempotent: a second run changes nothing and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '[setup] %s\n' "$*" >&2; }

APT_PACKAGES=(
  postgresql-15 postgresql-15-postgis-3 redis-server ffmpeg
  python3-venv chromium fonts-dejavu-core
  # Plate fonts for the synthetic training and test plates (models/synth).
  fonts-liberation fonts-freefont-ttf fonts-urw-base35
  # Test RTSP camera: GStreamer's RTSP server runs under Debian's own python3.
  gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi python3-gst-1.0
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

bash scripts/services.sh

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $PY"
  "$PY" -m venv .venv
fi
# Reinstall only when the project's requirements changed, so a second run takes seconds.
stamp=.venv/.platetrace-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing the project into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[test,train]"
  echo "$want" >"$stamp"
fi
log "ready: $ROOT/.venv"
