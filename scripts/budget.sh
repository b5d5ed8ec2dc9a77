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
status=0
node "$ROOT/end2end/budget.mjs" "http://127.0.0.1:$port" || status=1

# Lighthouse 12 (its default: a mid-range phone on a slow 4G link, simulated), in Debian's
# Chromium, on the same three pages; the signed-in ones with a new person's cookie. Budgets:
# performance >= 90, accessibility and best practices >= 95.
base="http://127.0.0.1:$port"
cookie="$(curl -s -D - -o /dev/null -X POST --data "username=lh_$(date +%s%N | tail -c 9)&password=correct-horse-battery" \
    "$base/api/signup" | sed -n 's/^[Ss]et-[Cc]ookie: \(chat_session=[^;]*\).*/\1/p')"
for path in /login / /chat/room/public-chat/; do
    headers=()
    [ "$path" != /login ] && headers=(--extra-headers "{\"Cookie\":\"$cookie\"}")
    CHROME_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}" npx -y lighthouse@12.2.3 "$base$path" --quiet \
        --chrome-flags="--headless --no-sandbox --disable-gpu" "${headers[@]}" \
        --only-categories=performance,accessibility,best-practices --output=json --output-path="$data/lighthouse.json" \
        || { status=1; continue; }
    node -e 'const r = require(process.argv[1]);
        const scores = Object.values(r.categories).map((c) => `${c.title} ${Math.round(c.score * 100)}`);
        const a = r.audits;
        console.log(`${process.argv[2]}: ${scores.join(", ")} (FCP ${a["first-contentful-paint"].displayValue}, LCP ${a["largest-contentful-paint"].displayValue}, TBT ${a["total-blocking-time"].displayValue}, CLS ${a["cumulative-layout-shift"].displayValue})`);
        const floor = { performance: 90, accessibility: 95, "best-practices": 95 };
        const low = Object.entries(floor).filter(([k, min]) => Math.round(r.categories[k].score * 100) < min);
        for (const [k, min] of low) console.log(`  over budget: ${k} below ${min}`);
        process.exit(low.length ? 1 : 0);' \
        "$data/lighthouse.json" "$path" || status=1
done
exit $status
