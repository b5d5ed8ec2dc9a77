#!/usr/bin/env bash
# Builds (release) and serves the chat on SQLite at http://127.0.0.1:3000.
# Installs what is missing first; safe to run again.
source "$(dirname "$0")/lib.sh"
ensure_rust_tools
build_site release
build_server release
say "serving on http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000} (Ctrl-C stops)"
exec "$ROOT/target/release/chat-server" serve
