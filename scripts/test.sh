#!/usr/bin/env bash
# Runs every test: Rust unit and HTTP integration tests (on SQLite, then on PostgreSQL when
# TEST_POSTGRES_URL names a server, e.g. postgres://postgres@127.0.0.1:5432), Playwright in
# Chromium against the real server, then Schemathesis against the OpenAPI document
# (scripts/fuzz-api.sh). Installs whatever is missing first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

scripts/setup.sh --test
export PATH="$PWD/.tools/node_modules/.bin:$PATH"

step "Rust unit and integration tests on SQLite (cargo test --features ssr)"
env -u TEST_POSTGRES_URL cargo test --features ssr

if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  step "integration tests on PostgreSQL at ${TEST_POSTGRES_URL} (a fresh database per test)"
  cargo test --features ssr --test api
else
  step "PostgreSQL pass SKIPPED: set TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432) to run it"
fi

step "building the app for the browser tests (cargo leptos build --split)"
cargo leptos build --split

step "end-to-end tests in Chromium (Playwright)"
if [ -z "${CHROMIUM_PATH:-}" ] && [ -x /usr/bin/chromium ]; then
  export CHROMIUM_PATH=/usr/bin/chromium
fi
(cd end2end && npx playwright test)

step "fuzzing the API from its OpenAPI document (Schemathesis)"
scripts/fuzz-api.sh
