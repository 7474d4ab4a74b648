#!/usr/bin/env bash
# Creates or updates the Python environment in .venv (psycopg, DuckDB, pyarrow, ...), used by
# the benchmark and by the end-to-end test of a client library's COPY.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  printf '==> %s\n' "creating the Python environment in .venv"
  python3 -m venv .venv
fi
.venv/bin/pip install -q -r bench/requirements.txt
