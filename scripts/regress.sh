#!/usr/bin/env bash
# Runs the pg_regress golden tests in tests/pg_regress against the installed extension, in a
# throwaway cluster run by the postgres user. (`cargo pgrx regress` cannot be used as root:
# it starts its server as the calling user.) setup.sql runs first, then the others in order.
#
# REGRESS_ACCEPT=1 copies the actual output of failing tests over their expected files; read
# the diff before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=/usr/lib/postgresql/15/bin
PG_REGRESS=$("$BIN/pg_config" --pkglibdir)/pgxs/src/test/regress/pg_regress
ROOT=${TSPARQUET_TEST_ROOT:-/tmp/tsp-test}/regress
PORT=${TSPARQUET_REGRESS_PORT:-5497}
INPUT=$PWD/tests/pg_regress
# Error reports must not depend on the caller's environment.
unset RUST_BACKTRACE

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop() { as_postgres "$BIN/pg_ctl" -D "$ROOT/data" -m immediate -w stop >/dev/null 2>&1 || true; }
stop
rm -rf "$ROOT"
mkdir -p "$ROOT/out"
[ "$(id -u)" -ne 0 ] || chown postgres:postgres "$ROOT"
trap stop EXIT

as_postgres "$BIN/initdb" -D "$ROOT/data" --auth=trust --username=postgres \
  --encoding=UTF8 --locale=C.UTF-8 >/dev/null
cat >>"$ROOT/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$ROOT'
client_min_messages = warning
fsync = off
shared_preload_libraries = 'tsparquet'
CONF
as_postgres "$BIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/server.log" -w start >/dev/null

# In this order: later tests show ids (table_id) that depend on the tests before them.
tests=(setup parse_lp write_lp copy_lp insert parallel_write time_pruning pushdown compact parallel_scan auto_compact streaming column_changes read_in_ranges)
for f in "$INPUT"/sql/*.sql; do
  name=$(basename "$f" .sql)
  if [[ ! " ${tests[*]} " =~ " $name " ]]; then
    echo "tests/pg_regress/sql/$name.sql is not in the list in $0" >&2
    exit 1
  fi
done

status=0
"$PG_REGRESS" --bindir="$BIN" --host="$ROOT" --port="$PORT" --user=postgres \
  --dbname=tsparquet_regress --inputdir="$INPUT" --outputdir="$ROOT/out" "${tests[@]}" || status=$?

if [ "$status" -ne 0 ]; then
  cat "$ROOT/out/regression.diffs" 2>/dev/null || true
  if [ "${REGRESS_ACCEPT:-0}" = 1 ]; then
    for t in "${tests[@]}"; do
      cp "$ROOT/out/results/$t.out" "$INPUT/expected/$t.out"
    done
    echo "expected output updated from results: review it with git diff"
  fi
fi
exit "$status"
