#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests, then the Playwright suite in Chromium.
# Installs what is missing first; safe to run again.
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
ensure_browser
ensure_services

say "Rust unit and integration tests"
cargo test --workspace --exclude frontend

build_site debug
build_server debug
say "end-to-end tests in Chromium"
(cd "$ROOT/end2end" && npx playwright test)
