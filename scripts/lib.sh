# Shared by the run and test scripts: installs what is missing (and only that) and builds.
# Sourced, not run.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/.tools/node_modules/.bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

WASM_SPLIT_VERSION=0.2.4

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock
}

ensure_rust_tools() {
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        say "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
    if ! cargo fmt --version >/dev/null 2>&1; then
        say "adding rustfmt (the formatting check)"
        rustup component add rustfmt
    fi
    if ! cargo clippy --version >/dev/null 2>&1; then
        say "adding clippy (the lint check)"
        rustup component add clippy
    fi
    # wasm-split (cuts the pages loaded on demand out of the bundle): the version whose
    # runtime matches the wasm_split_helpers crate in Cargo.lock.
    if ! command -v wasm-split-cli >/dev/null \
        || ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
        say "installing wasm-split-cli $WASM_SPLIT_VERSION (a minute or two, once)"
        cargo install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary --locked --force
    fi
    local want
    want="$(wasm_bindgen_version)"
    if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
        say "installing wasm-bindgen-cli $want (a few minutes, once)"
        # --locked fails for some versions (a yanked dependency); the version pin is what matters.
        cargo install wasm-bindgen-cli --version "$want" --force
    fi
}

# wasm-opt from npm's binaryen shrinks the release bundle; optional for debug builds.
ensure_wasm_opt() {
    if [ ! -x "$ROOT/.tools/node_modules/.bin/wasm-opt" ]; then
        say "installing binaryen (wasm-opt) from npm"
        mkdir -p "$ROOT/.tools"
        npm install --prefix "$ROOT/.tools" --no-audit --no-fund --loglevel=error binaryen@132 >/dev/null
    fi
}

# build_site debug|release: the WASM bundle, its JS glue and the stylesheet under target/site/pkg,
# each named by its content and precompressed (brotli, gzip) by scripts/assets.mjs. `wasm-split`
# first cuts the pages loaded on demand (`app/src/pages/mod.rs`) out of the bundle into chunks
# of their own, and writes the loader (__wasm_split.js) that fetches them.
build_site() {
    local profile="$1" cargo_profile=dev dir=debug
    if [ "$profile" = release ]; then cargo_profile=wasm-release; dir=wasm-release; fi
    say "building the browser bundle ($profile)"
    cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$cargo_profile"
    local pkg="$ROOT/target/site/pkg" split="$ROOT/target/site/split"
    rm -rf "$split"
    mkdir -p "$pkg" "$split"
    wasm-split-cli "$ROOT/target/wasm32-unknown-unknown/$dir/frontend.wasm" "$split" --out-name chat --target web
    # --keep-lld-exports: the chunks share the function table the linker exported.
    wasm-bindgen --target web --no-typescript --keep-lld-exports --out-dir "$pkg" --out-name chat "$split/chat.wasm"
    rm "$split/chat.wasm"
    if [ "$profile" = release ]; then
        ensure_wasm_opt
        local wasm
        for wasm in "$pkg/chat_bg.wasm" "$split"/*.wasm; do
            [ -e "$wasm" ] || continue
            wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
                --enable-mutable-globals --enable-reference-types --enable-multivalue \
                "$wasm" -o "$wasm" 2> >(grep -v 'unknown name subsection' >&2)
        done
    fi
    find "$split" -maxdepth 1 -type f -exec mv -t "$pkg/" {} +
    cp "$ROOT/style/main.css" "$pkg/chat.css"
    local fast=--fast
    [ "$profile" = release ] && fast=""
    node "$ROOT/scripts/assets.mjs" "$pkg" $fast
}

build_server() {
    local profile="$1"
    say "building the server ($profile)"
    if [ "$profile" = release ]; then cargo build -p server --release; else cargo build -p server; fi
}

# PostgreSQL and Redis: installed from Debian if missing, started if down. The tests connect
# to PostgreSQL on 127.0.0.1 as the current user (trust auth on this machine kind; elsewhere set
# TEST_POSTGRES_URL) and start Redis servers of their own, so only the binary is needed there.
ensure_services() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
        say "installing PostgreSQL and Redis from Debian"
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y postgresql redis-server
    fi
    if ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
        say "starting PostgreSQL"
        $sudo pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
        for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -q 2>/dev/null && break; sleep 1; done
    fi
    if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
        say "starting Redis"
        mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
            --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    fi
}

ensure_browser() {
    if [ ! -x /usr/bin/chromium ]; then
        say "installing Chromium from Debian"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
    fi
    if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] || [ ! -d "$ROOT/end2end/node_modules/@axe-core/playwright" ]; then
        say "installing the Playwright test runner and axe-core"
        (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
