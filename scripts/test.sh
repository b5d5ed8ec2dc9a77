#!/usr/bin/env bash
# Runs every test: the formatting and lint checks, Rust unit and integration tests (on SQLite,
# then the integration tests again on PostgreSQL), then the Playwright suite in Chromium.
# Installs what is missing first; safe to run again.
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
ensure_browser
ensure_services

say "formatting (cargo fmt --check)"
cargo fmt --all -- --check

# Lints, denied, for both halves of the app: the server build (ssr) with its tests, and the
# browser build (hydrate) for the WASM target.
say "lints (cargo clippy, ssr and hydrate)"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
cargo clippy -p app -p frontend --target wasm32-unknown-unknown --features app/hydrate -- -D warnings

say "Rust unit and integration tests (SQLite)"
cargo test --workspace --exclude frontend

# The same integration suite against PostgreSQL: each test gets a database of its own on the
# local server, dropped when it ends.
say "integration tests against PostgreSQL"
pg_isready -h 127.0.0.1 -q || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://$(id -un)@127.0.0.1:5432}" cargo test -p server --test api

build_site debug
build_server debug
say "end-to-end tests in Chromium"
(cd "$ROOT/end2end" && npx playwright test)
