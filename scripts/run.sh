#!/usr/bin/env bash
# The main job: installs what is missing, builds tsparquet (release) into the system
# PostgreSQL 15, starts a local cluster as the postgres user, creates the extension, writes a
# line protocol sample into it and queries it back, then leaves the server running.
#
# Settings (environment): TSPARQUET_PORT (default 5433), TSPARQUET_PGDATA (default
# /var/lib/postgresql/tsparquet), TSPARQUET_DB (default tsparquet).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${TSPARQUET_PORT:-5433}
PGDATA=${TSPARQUET_PGDATA:-/var/lib/postgresql/tsparquet}
DB=${TSPARQUET_DB:-tsparquet}
BIN=/usr/lib/postgresql/15/bin
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_PGRX_DISABLE_GC_SECTIONS_WORKAROUND=1

say() { printf '==> %s\n' "$*"; }
as_postgres() { runuser -u postgres -- "$@"; }
sql() { psql -X -q -v ON_ERROR_STOP=1 -h localhost -p "$PORT" -U postgres "$@"; }

scripts/install-deps.sh

say "building and installing the extension (release)"
source scripts/extension.sh
unlink_installed_library
cargo pgrx install --release --pg-config "$BIN/pg_config" >/dev/null

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  say "creating a cluster in $PGDATA"
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  # Trust authentication, but only on loopback: this is a local development cluster.
  as_postgres "$BIN/initdb" -D "$PGDATA" --auth=trust --username=postgres \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$PGDATA/postgresql.conf" <<CONF
port = $PORT
listen_addresses = 'localhost'
unix_socket_directories = '/tmp'
CONF
fi

# Loaded when the server starts, so that COPY ... (FORMAT lineprotocol) works in every session.
grep -q "^shared_preload_libraries = 'tsparquet'" "$PGDATA/postgresql.conf" ||
  echo "shared_preload_libraries = 'tsparquet'" >>"$PGDATA/postgresql.conf"

# (Re)started, so that the server runs the library just installed.
say "starting PostgreSQL on port $PORT"
as_postgres "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
# Without RUST_BACKTRACE, so that errors do not carry Rust backtraces to clients.
env -u RUST_BACKTRACE runuser -u postgres -- "$BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w start >/dev/null

if [ -z "$(sql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
  sql -d postgres -c "CREATE DATABASE \"$DB\""
fi
ensure_extension "$PORT" "$DB" "$PGDATA/tsparquet-$DB.sha256"

say "writing examples/sample.lp into database \"example\" with tsparquet.write_lp"
sql -d "$DB" -v lines="$(cat examples/sample.lp)" <<'SQL'
SET TimeZone = 'UTC';
SELECT written, rejected, jsonb_pretty(errors) AS errors FROM tsparquet.write_lp('example', :'lines');
SELECT * FROM example.cpu ORDER BY host, time;
SELECT * FROM example.weather;
SQL

say "streaming examples/sample.lp into database \"example_copy\" with COPY ... (FORMAT lineprotocol)"
sql -d "$DB" -c "COPY example_copy FROM STDIN WITH (FORMAT lineprotocol)" <examples/sample.lp
sql -d "$DB" -c "SELECT count(*) AS cpu_rows FROM example_copy.cpu"

say "PostgreSQL is running. Connect with:"
echo "    psql -h localhost -p $PORT -U postgres $DB"
