#!/usr/bin/env bash
# The whole test suite: pytest on SQLite, the browser tests and, at the same time, pytest
# on a real PostgreSQL server where one can be started; migrations on both.
# TEST_PARTS (default 2): how many processes each database's tests are split into.
# With CI=true, a missing PostgreSQL or Chromium is a failure, never a silent skip.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FLASK_APP=wsgi.py
status=0

# Byte-code once, before the processes start: the pytest processes and every Python
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
  DATABASE_URL=$url "$BIN/flask" db upgrade >/dev/null || return 1
  DATABASE_URL=$url "$BIN/flask" db check || return 1
}

check_migrations_on_sqlite() {
  local dir rc
  dir=$(mktemp -d)
  check_migrations "sqlite:///$dir/migrations.sqlite3"
  rc=$?
  rm -rf "$dir"
  return $rc
}

check_migrations_on_postgres() {  # $1: database URL (emptied first)
  "$BIN/python" - "$1" <<'PY' || return 1
import sys, sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
with engine.begin() as c:
    c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
PY
  check_migrations "$1"
}

# Several pytest processes at once keep both cores busy until the end (the scheduler shares
# the cores out). The tests that use the database under test (the database_url fixture) run
# twice, on SQLite and on PostgreSQL, each database's as TEST_PARTS interleaved parts
# (--shard) side by side, every part with a database of its own; all other tests run once:
# the browser tests in one process (their server has a database of its own), and in another
# the clustering maths, the threshold rule, the catalogs, gunicorn's settings, pure helpers.
# With one process per database, the PostgreSQL run, the longest, went on alone on one core
# at the end (bench/README.md, "make test"). The folders ignored by the database runs hold
# only tests that need no database (skipping them also skips importing them). Each
# process's output is shown once it has finished, in the order they were started.
parts=${TEST_PARTS:-2}
case $parts in
  '' | *[!0-9]* | 0*) echo "test.sh: TEST_PARTS must be a whole number from 1 up" >&2; exit 2 ;;
esac
database_runs=(-m "not e2e" -p no:cacheprovider --database-tests-only
               --ignore=tests/clustering --ignore=tests/threshold
               --ignore=tests/test_translations.py --ignore=tests/test_deploy.py)
names=() pids=() logs=()
start() {  # $1: what the process runs (shown above its output); the rest: the command
  local log
  log=$(mktemp)
  names+=("$1")
  shift
  "$@" >"$log" 2>&1 &
  pids+=($!)
  logs+=("$log")
}
on_postgres() {  # $1: database URL; the rest: pytest's arguments
  TEST_DATABASE_URL=$1 run_pytest "${@:2}"
}

# The import contracts and the migrations (upgrade from empty, then `flask db check`) run
# beside the test processes rather than before or after them, where they would have a core
# to themselves and leave the other idle.
start "import contracts (pyproject.toml, [tool.importlinter])" \
  "$BIN/lint-imports" --no-cache --no-logo
start "migrations on SQLite: upgrade from empty + check" check_migrations_on_sqlite

# Screenshots are for people, not checks (tests/e2e/conftest.py): none here.
export HIROBA_SCREENSHOTS=0
start "pytest once: the browser tests" \
  run_pytest -p no:cacheprovider -m e2e tests/e2e
start "pytest once: the tests without the database" \
  run_pytest -p no:cacheprovider --without-database-tests -m "not e2e" --ignore=tests/e2e
for k in $(seq "$parts"); do
  start "pytest on SQLite, part $k of $parts: the tests that use the database" \
    run_pytest "${database_runs[@]}" --shard "$k/$parts"
done
pg_url=
if pg_url=$(scripts/postgres.sh start); then
  for k in $(seq "$parts"); do
    url=$pg_url
    # The first part uses the checkout's own database, the others one beside it each.
    if [ "$k" -gt 1 ] && ! url=$(TEST_DB="${pg_url##*/}_$k" scripts/postgres.sh start); then
      echo "test.sh: no database for PostgreSQL part $k: failing" >&2
      status=1
      continue
    fi
    start "pytest on PostgreSQL, part $k of $parts: the tests that use the database" \
      on_postgres "$url" "${database_runs[@]}" --shard "$k/$parts"
  done
  start "migrations on PostgreSQL: upgrade from empty + check" \
    check_migrations_on_postgres "${pg_url/hiroba_test_/hiroba_migrations_}"
elif [ "${CI:-}" = "true" ]; then
  pg_url=
  echo "test.sh: PostgreSQL could not be started and CI=true: failing" >&2
  status=1
else
  pg_url=
  echo "test.sh: PostgreSQL not available here; skipped the PostgreSQL run (CI runs it)" >&2
fi

for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || status=1
  echo "== ${names[$i]}"
  cat "${logs[$i]}"
  rm -f "${logs[$i]}"
done

if [ -n "$pg_url" ]; then
  scripts/postgres.sh stop
fi

if [ $status -eq 0 ]; then echo "test.sh: all checks passed"; else echo "test.sh: FAILED" >&2; fi
exit $status
