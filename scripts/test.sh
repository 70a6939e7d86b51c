#!/usr/bin/env bash
# Runs every test: Rust unit and HTTP integration tests, then Playwright in Chromium against
# the real server. Installs whatever is missing first (see scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

scripts/setup.sh --test
export PATH="$PWD/.tools/node_modules/.bin:$PATH"

step "Rust unit and integration tests (cargo test --features ssr)"
cargo test --features ssr

step "building the app for the browser tests (cargo leptos build)"
cargo leptos build

step "end-to-end tests in Chromium (Playwright)"
if [ -z "${CHROMIUM_PATH:-}" ] && [ -x /usr/bin/chromium ]; then
  export CHROMIUM_PATH=/usr/bin/chromium
fi
(cd end2end && npx playwright test)
