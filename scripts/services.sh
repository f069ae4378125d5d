#!/usr/bin/env bash
# Starts PostgreSQL and Redis when they are not running (uses them where they already run),
# then creates the database with PostGIS. Safe to run any number of times.
set -euo pipefail
log() { printf '[services] %s\n' "$*" >&2; }
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
DB=${PLATETRACE_DB_NAME:-platetrace}

as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }

if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
  log "starting PostgreSQL"
  if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
    pg_createcluster 15 main >/dev/null
  fi
  ver=$(pg_lsclusters -h | awk 'NR==1{print $1}')
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  for _ in $(seq 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
fi
pg_isready -q -h "$PGHOST" -p "$PGPORT" || { log "PostgreSQL did not start"; exit 1; }

# A fresh cluster only trusts peer auth; we connect over TCP as postgres from the app.
if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
  log "PostgreSQL refuses postgres over TCP; allowing local trust"
  hba=$(as_postgres "psql -Atc 'show hba_file'")
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  as_postgres "psql -Atc 'select pg_reload_conf()'" >/dev/null
fi

PSQL=(env PGOPTIONS="-c client_min_messages=warning" psql -h "$PGHOST" -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -Atq)
if [ -z "$("${PSQL[@]}" -d postgres -c "select 1 from pg_database where datname='$DB'")" ]; then
  log "creating database $DB"
  "${PSQL[@]}" -d postgres -c "create database $DB"
fi
"${PSQL[@]}" -d "$DB" -c 'create extension if not exists postgis'

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis (AOF on, so a restart loses nothing)"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --appendonly yes \
    --dir /var/lib/redis --logfile /var/log/redis/platetrace.log
  for _ in $(seq 30); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { log "Redis did not start"; exit 1; }
