#!/usr/bin/env bash
# Runs one load scenario against a fresh release server on a fresh SQLite file and prints the
# load client's JSON line (see README, "Performance"). Usage:
#   ./scripts/loadtest.sh SCENARIO [extra loadtest flags…]
# Scenarios: s100, s1000, s1000-app, s10k-10, s10k-60, app-200, app-200-backlog, store-100,
# idle-10k, signups-2000, instances. LOADTEST_PORT sets the port (default 3100; instances also
# use the next one, and Redis 1000 above). Loopback only; every run ends by itself.
source "$(dirname "$0")/lib.sh"
scenario="${1:?usage: loadtest.sh SCENARIO [loadtest flags…]}"
shift
case "$scenario" in
    s100)            flags="--people 100 --sockets 100 --senders 10 --rate 200 --duration 0.5 --drain 5" ;;
    s1000)           flags="--people 1000 --sockets 1000 --senders 10 --rate 1000 --duration 1 --drain 5" ;;
    s1000-app)       flags="--people 1000 --sockets 1000 --senders 10 --rate 1000 --duration 1 --drain 5 --app-open 1000" ;;
    s10k-10)         flags="--people 2000 --sockets 10000 --senders 10 --rate 10 --duration 10 --drain 10" ;;
    s10k-60)         flags="--people 2000 --sockets 10000 --senders 10 --rate 60 --duration 5 --drain 20" ;;
    app-200)         flags="--people 200 --sockets 200 --senders 5 --rate 250 --duration 0.4 --drain 5 --app-open 1000" ;;
    app-200-backlog) flags="--people 200 --sockets 200 --senders 5 --rate 250 --duration 0.4 --drain 5 --app-open 1000 --backlog 20000" ;;
    store-100)       flags="--people 100 --own-rooms --senders 100 --rate 0 --in-flight 1 --duration 5 --drain 5" ;;
    idle-10k)        flags="--people 2000 --sockets 10000 --senders 0 --settle 5" ;;
    signups-2000)    flags="--people 2000 --signup-only --signup-concurrency 8" ;;
    # Two instances through a Redis of their own; all sockets on the first. The second's
    # CPU-seconds (other_server_cpu_s) say what a room it does not serve costs it.
    instances)       flags="--people 100 --sockets 100 --senders 5 --rate 500 --duration 10 --drain 5"; two=1 ;;
    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
# SERVER_BIN / LOADTEST_BIN: prebuilt binaries (a build from before a change), used as they are.
[ -n "${SERVER_BIN:-}" ] || cargo build --release -q -p server
[ -n "${LOADTEST_BIN:-}" ] || cargo build --release -q -p loadtest
server_bin="${SERVER_BIN:-$ROOT/target/release/chat-server}"
loadtest_bin="${LOADTEST_BIN:-$ROOT/target/release/loadtest}"
port="${LOADTEST_PORT:-3100}"
dir="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
# The load client signs thousands of people up (and logs them in) from one address, and its
# senders post far faster than a person may (MESSAGES_PER_SECOND): what is measured is the
# realtime core, so the limits are lifted.
export DATABASE_URL="sqlite://$dir/chat.db" DATA_DIR="$dir" RUST_LOG=warn SIGNUPS_PER_ADDRESS=1000000 \
    LOGIN_FAILURES_PER_ADDRESS=1000000 MESSAGES_PER_SECOND=1000000 MESSAGE_BURST=1000000 \
    FRAMES_PER_SECOND=1000000 SOCKETS_PER_PERSON=1000000
other=()
if [ -n "${two:-}" ]; then
    redis_port=$((port + 1000))
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
    pids+=($!)
    export REDIS_URL="redis://127.0.0.1:$redis_port" REDIS_PREFIX=load
    LEPTOS_SITE_ADDR="127.0.0.1:$((port + 1))" "$server_bin" serve >"$dir/other.log" 2>&1 &
    pids+=($!)
    other=(--other-pid "$!")
    # One at a time: the first brings the new database's schema up.
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$((port + 1))/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
fi
LEPTOS_SITE_ADDR="127.0.0.1:$port" "$server_bin" serve >"$dir/server.log" 2>&1 &
pid=$!
pids+=("$pid")
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
# shellcheck disable=SC2086
"$loadtest_bin" --url "http://127.0.0.1:$port" --server-pid "$pid" "${other[@]}" $flags "$@"
