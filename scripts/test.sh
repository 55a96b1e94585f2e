#!/usr/bin/env bash
# The whole test suite: pytest on SQLite (with the browser tests), migrations on SQLite,
# then pytest and migrations again on a real PostgreSQL server where one can be started.
# With CI=true, a missing PostgreSQL or Chromium is a failure, never a silent skip.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FLASK_APP=wsgi.py
status=0

run_pytest() {
  # pytest exit 5 means "no tests collected": that is a broken suite, not a pass.
  "$BIN/python" -m pytest "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then echo "test.sh: pytest collected no tests" >&2; rc=1; fi
  return $rc
}

check_migrations() {  # $1: database URL
  local url=$1
  echo "== migrations: upgrade from empty + check ($url)"
  DATABASE_URL=$url "$BIN/flask" db upgrade >/dev/null || return 1
  DATABASE_URL=$url "$BIN/flask" db check || return 1
}

echo "== pytest on SQLite"
run_pytest || status=1

tmpdb=$(mktemp -d)
check_migrations "sqlite:///$tmpdb/migrations.sqlite3" || status=1
rm -rf "$tmpdb"

echo "== PostgreSQL"
if pg_url=$(scripts/postgres.sh start); then
  TEST_DATABASE_URL=$pg_url run_pytest -m "not e2e" --ignore=tests/clustering -p no:cacheprovider \
    || status=1
  migrations_url=${pg_url/hiroba_test_/hiroba_migrations_}
  "$BIN/python" - "$migrations_url" <<'PY' || status=1
import sys, sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
with engine.begin() as c:
    c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
PY
  check_migrations "$migrations_url" || status=1
  scripts/postgres.sh stop
elif [ "${CI:-}" = "true" ]; then
  echo "test.sh: PostgreSQL could not be started and CI=true: failing" >&2
  status=1
else
  echo "test.sh: PostgreSQL not available here; skipped the PostgreSQL run (CI runs it)" >&2
fi

if [ $status -eq 0 ]; then echo "test.sh: all checks passed"; else echo "test.sh: FAILED" >&2; fi
exit $status
