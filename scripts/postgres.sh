#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL server on loopback for the test suite.
#   scripts/postgres.sh start  -> prints the database URL on stdout
#   scripts/postgres.sh stop   (only stops a server this checkout started)
# Each checkout gets its own databases (named after a hash of its path), so several
# checkouts can share one server without dropping each other's tables.
# Uses the server binaries of the Debian `postgresql` package; runs as the
# `postgres` system user when invoked as root (initdb refuses to run as root).
set -euo pipefail
PGDATA_DIR=${PGDATA_DIR:-/tmp/hiroba-pg}
PGPORT=${PGPORT:-54329}
CHECKOUT=$(cd "$(dirname "$0")/.." && pwd)
SUFFIX=$(printf '%s' "$CHECKOUT" | md5sum | cut -c1-8)
TEST_DB=${TEST_DB:-hiroba_test_$SUFFIX}
MIGRATIONS_DB=hiroba_migrations_$SUFFIX
OWNER_FILE=$PGDATA_DIR.started-by-$SUFFIX
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
      echo "postgres.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
      exit 3
    fi
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
      mkdir -p "$PGDATA_DIR"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA_DIR"
      as_pg "$BIN/initdb" -D "$PGDATA_DIR" -U hiroba --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
      touch "$OWNER_FILE"
      as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -w -l "$PGDATA_DIR/server.log" \
        -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null
    fi
    for db in "$TEST_DB" "$MIGRATIONS_DB"; do
      as_pg "$BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U hiroba -d postgres -qtAc \
        "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
        || as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U hiroba "$db"
    done
    echo "postgresql+psycopg://hiroba@127.0.0.1:$PGPORT/$TEST_DB"
    ;;
  stop)
    if [ -f "$OWNER_FILE" ] && [ -n "$BIN" ]; then
      as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -m fast stop >/dev/null 2>&1 || true
      rm -f "$OWNER_FILE"
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
