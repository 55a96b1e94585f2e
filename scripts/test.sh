#!/usr/bin/env bash
# The whole test suite: pytest on SQLite, the browser tests and, at the same time, pytest
# on a real PostgreSQL server where one can be started; migrations on both.
# With CI=true, a missing PostgreSQL or Chromium is a failure, never a silent skip.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FLASK_APP=wsgi.py
status=0

# Byte-code once, before the processes start: the three pytest processes and every Python
# subprocess the tests start (flask commands, the schemathesis server) otherwise compile
# the same sources again, and pytest rewrites every test module's asserts again in each
# process (an environment with PYTHONDONTWRITEBYTECODE set caches nothing). __pycache__ is
# ignored by git.
unset PYTHONDONTWRITEBYTECODE
"$BIN/python" -m compileall -q -j 0 app deliberation clustering tests migrations wsgi.py >/dev/null

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

echo "== import contracts (pyproject.toml, [tool.importlinter])"
"$BIN/lint-imports" --no-cache --no-logo || status=1

# Three pytest processes at once keep both cores busy (the scheduler balances them). The
# tests that use the database under test (the database_url fixture) run twice, on SQLite in
# the foreground and on PostgreSQL in the background; all others run once, in a third
# process in the background: the browser tests (their server has a database of its own), the
# clustering maths, the threshold rule, the catalogs, gunicorn's settings, pure helpers.
# The folders ignored by the database runs hold only tests of the third kind (skipping them
# also skips importing them). The output of the two in the background is shown after the
# SQLite run.
database_runs=(-m "not e2e" -p no:cacheprovider --database-tests-only
               --ignore=tests/clustering --ignore=tests/threshold
               --ignore=tests/test_translations.py --ignore=tests/test_deploy.py)
once_log=$(mktemp)
( HIROBA_SCREENSHOTS=0 run_pytest -p no:cacheprovider --without-database-tests ) \
  >"$once_log" 2>&1 &
once_pid=$!
pg_pid=
pg_log=$(mktemp)
if pg_url=$(scripts/postgres.sh start); then
  ( TEST_DATABASE_URL=$pg_url run_pytest "${database_runs[@]}" ) >"$pg_log" 2>&1 &
  pg_pid=$!
elif [ "${CI:-}" = "true" ]; then
  echo "test.sh: PostgreSQL could not be started and CI=true: failing" >&2
  status=1
else
  echo "test.sh: PostgreSQL not available here; skipped the PostgreSQL run (CI runs it)" >&2
fi

echo "== pytest on SQLite: the tests that use the database"
run_pytest "${database_runs[@]}" || status=1

tmpdb=$(mktemp -d)
check_migrations "sqlite:///$tmpdb/migrations.sqlite3" || status=1
rm -rf "$tmpdb"

echo "== pytest once: the browser tests and the tests without the database"
wait "$once_pid" || status=1
cat "$once_log"
rm -f "$once_log"

if [ -n "$pg_pid" ]; then
  echo "== pytest on PostgreSQL: the tests that use the database"
  wait "$pg_pid" || status=1
  cat "$pg_log"
  migrations_url=${pg_url/hiroba_test_/hiroba_migrations_}
  "$BIN/python" - "$migrations_url" <<'PY' || status=1
import sys, sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
with engine.begin() as c:
    c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
PY
  check_migrations "$migrations_url" || status=1
  scripts/postgres.sh stop
fi
rm -f "$pg_log"

if [ $status -eq 0 ]; then echo "test.sh: all checks passed"; else echo "test.sh: FAILED" >&2; fi
exit $status
