#!/usr/bin/env bash
# Installs what building and testing tsparquet needs on Debian bookworm, as root:
# PostgreSQL 15 with its server headers, clang (for bindgen), sudo, and cargo-pgrx, pinned to
# the pgrx version in Cargo.toml. Each step is skipped when already done, so a second run is fast.
set -euo pipefail

PG_MAJOR=15
PGRX_VERSION=0.18.1
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '==> %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh installs system packages: run it as root" >&2
  exit 1
fi

packages=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR sudo clang libclang-dev pkg-config python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for tool in cargo rustfmt cargo-clippy; do
  command -v "$tool" >/dev/null || { echo "missing Rust tool: $tool (install the Rust toolchain with rustfmt and clippy)" >&2; exit 1; }
done

if [ "$(cargo pgrx --version 2>/dev/null)" != "cargo-pgrx $PGRX_VERSION" ]; then
  say "cargo install cargo-pgrx $PGRX_VERSION (about 4 minutes)"
  cargo install cargo-pgrx --version "=$PGRX_VERSION" --locked --quiet
fi

if ! grep -qs "pg$PG_MAJOR = \"$PG_CONFIG\"" "$HOME/.pgrx/config.toml"; then
  say "cargo pgrx init --pg$PG_MAJOR=$PG_CONFIG"
  cargo pgrx init --pg$PG_MAJOR="$PG_CONFIG" >/dev/null
fi
