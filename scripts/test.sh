#!/usr/bin/env bash
# Runs the whole test suite and exits non-zero on any failure: formatting, lints, the plain
# Rust tests, the #[pg_test] tests, the pg_regress golden tests and the end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_PGRX_DISABLE_GC_SECTIONS_WORKAROUND=1
# Short: a Unix socket path inside it must stay under 108 bytes.
TEST_ROOT=${TSPARQUET_TEST_ROOT:-/tmp/tsp-test}
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

step() { printf '\n==> %s\n' "$*"; }
source scripts/extension.sh

scripts/install-deps.sh
mkdir -p "$TEST_ROOT"
chown postgres:postgres "$TEST_ROOT"

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --features tsparquet/pg_test -- -D warnings

step "plain Rust tests (tsparquet-core)"
cargo test -p tsparquet-core

step "#[pg_test] tests"
# This step and the next each install a build into the system PostgreSQL.
unlink_installed_library
cargo pgrx test pg15 --runas postgres --pgdata "$TEST_ROOT/pg_test"

step "installing the extension (debug build) for the cluster tests"
unlink_installed_library
cargo pgrx install --pg-config "$PG_CONFIG" >/dev/null

step "pg_regress golden tests"
scripts/regress.sh

step "end-to-end tests against fresh clusters"
scripts/python-env.sh
cargo test -p tsparquet-e2e -- --test-threads 1

step "all tests passed"
