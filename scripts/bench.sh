#!/usr/bin/env bash
# The side-by-side benchmark (see examples/bench/ and the README's "Benchmark" section):
# server CPU per request, requests/s, p50/p99 and memory for the unauthenticated floor,
# /api/me (JWT, with and without the verified-token cache), a per-request session lookup in
# SQLite and PostgreSQL, refresh on both, and login; timing equality of login and reset
# requests; database growth; instructions per request under callgrind; revocation between two
# instances; then the client's bundle sizes and time to hydrated. A full run is added to
# bench/results.json (every run kept, with its machine; bench/results.svg is the latest), and
# the tables are printed; a shorter one goes to bench/trial.json.
#   BENCH_ROUNDS (5), BENCH_SECONDS (4 per phase), BENCH_PAIRS (500 per timing test),
#   BENCH_INSTRUCTIONS (yes; no skips callgrind),
#   BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432; empty skips PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

scripts/setup.sh --test
export PATH="$PWD/.tools/node_modules/.bin:$PATH"
if [ -z "${CHROMIUM_PATH:-}" ] && [ -x /usr/bin/chromium ]; then
  export CHROMIUM_PATH=/usr/bin/chromium
fi
postgres="${BENCH_POSTGRES_URL-postgres://postgres@127.0.0.1:5432}"
if [ "${BENCH_INSTRUCTIONS:-yes}" = yes ] && ! command -v callgrind_control >/dev/null; then
  echo "the instruction counts need valgrind (Debian: apt-get install valgrind), or BENCH_INSTRUCTIONS=no" >&2
  exit 1
fi

step "release build with the benchmark-only endpoints (cargo leptos build --release --split --features bench)"
cargo leptos build --release --split --features bench
step "the load generator (cargo build --release --example bench)"
cargo build --release --example bench --features ssr,bench

step "client: bundle sizes and time from navigation to hydrated"
mkdir -p bench
data="$(mktemp -d)"
port=3217
DATABASE_URL="sqlite://$data/client.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
  RUST_LOG=warn target/release/tokenpair &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done
(cd end2end && node bench/client.mjs ../target/site/pkg "http://127.0.0.1:$port" ../bench/client.json)
kill $server

step "server: side by side (servers on CPU 0, the load generator on CPU 1, where there are two)"
target/release/examples/bench target/release/tokenpair \
  --rounds "${BENCH_ROUNDS:-5}" --seconds "${BENCH_SECONDS:-4}" --pairs "${BENCH_PAIRS:-500}" \
  --instructions "${BENCH_INSTRUCTIONS:-yes}" --postgres "$postgres" --client bench/client.json
