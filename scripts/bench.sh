#!/usr/bin/env bash
# The benchmark: tsparquet side by side with PostgreSQL heap tables and DuckDB on TSBS
# cpu-only data, in one run on this machine. Writes bench/results/<date>-<scale>.md and a
# chart next to it, and prints a summary line per section.
#
#   scripts/bench.sh [--scale smoke|standard] [--only ingest|query|storage|small-files|parallel]
#
# smoke: 20 hosts x 1 day (172,800 rows), a few minutes; standard: 200 hosts x 2 days
# (3,456,000 rows). The cluster (port 5436, in /tmp/tsp-bench) is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${TSPARQUET_BENCH_PORT:-5436}
ROOT=${TSPARQUET_BENCH_ROOT:-/tmp/tsp-bench}
BIN=/usr/lib/postgresql/15/bin
GENERATOR=$(cd .. && pwd)/shared/bench/tsbs_cpu_gen.py
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_PGRX_DISABLE_GC_SECTIONS_WORKAROUND=1
unset RUST_BACKTRACE

say() { printf '==> %s\n' "$*"; }
as_postgres() { runuser -u postgres -- "$@"; }

[ -f "$GENERATOR" ] || { echo "the TSBS generator is missing: $GENERATOR" >&2; exit 1; }
scripts/install-deps.sh

say "building and installing the extension (release)"
source scripts/extension.sh
unlink_installed_library
cargo pgrx install --release --pg-config "$BIN/pg_config" >/dev/null

scripts/python-env.sh

SETTINGS="shared_buffers=4GB, work_mem=256MB, max_wal_size=16GB, synchronous_commit=on, fsync=on, jit=off, max_parallel_workers_per_gather=1"
if [ ! -s "$ROOT/data/PG_VERSION" ]; then
  say "creating the benchmark cluster in $ROOT"
  mkdir -p "$ROOT"
  chown postgres:postgres "$ROOT"
  as_postgres "$BIN/initdb" -D "$ROOT/data" --auth=trust --username=postgres \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "port = $PORT"
    echo "listen_addresses = 'localhost'"
    echo "unix_socket_directories = '$ROOT'"
    echo "$SETTINGS" | tr ',' '\n' | sed 's/^ *//'
  } >>"$ROOT/data/postgresql.conf"
fi
# The COPY hook of FORMAT lineprotocol needs the library loaded when sessions start.
grep -q "^shared_preload_libraries = 'tsparquet'" "$ROOT/data/postgresql.conf" ||
  echo "shared_preload_libraries = 'tsparquet'" >>"$ROOT/data/postgresql.conf"
stop() { as_postgres "$BIN/pg_ctl" -D "$ROOT/data" -m fast -w stop >/dev/null 2>&1 || true; }
stop
as_postgres "$BIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/server.log" -w start >/dev/null
trap stop EXIT
# A new build may need the extension created anew, which drops the loaded tables; the
# benchmark then loads them again.
ensure_extension "$PORT" postgres "$ROOT/extension.sha256"

.venv/bin/python bench/run.py --dsn "host=localhost port=$PORT user=postgres dbname=postgres" \
  --generator "$GENERATOR" --export-dir "$ROOT/export" --settings "$SETTINGS" "$@"
