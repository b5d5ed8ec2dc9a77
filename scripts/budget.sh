#!/usr/bin/env bash
# The first-visit budget (README, Performance): builds the release site and server, serves them
# on a fresh SQLite database, and measures what Chromium downloads for the login page, the
# directory and the room page with an empty cache (end2end/budget.mjs). Exits 1 when over.
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
ensure_browser
build_site release
build_server release
data="$(mktemp -d)"
port="${BUDGET_PORT:-3199}"
DATABASE_URL="sqlite://$data/chat.db" DATA_DIR="$data" LEPTOS_SITE_ADDR="127.0.0.1:$port" RUST_LOG=warn \
    "$ROOT/target/release/chat-server" serve &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
node "$ROOT/end2end/budget.mjs" "http://127.0.0.1:$port"
