#!/usr/bin/env bash
# Builds bench/wasm-floor (the smallest Leptos 0.8 app that hydrates, routes, sets a title and
# handles a form) the way cargo-leptos builds tokenpair's wasm in release (type-erased components,
# the same profile, wasm-bindgen, wasm-opt -Oz) and prints its size: the framework's floor under
# tokenpair's main wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.tools/node_modules/.bin:$PATH"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
(cd bench/wasm-floor &&
  RUSTFLAGS="--cfg erase_components" CARGO_TARGET_DIR="$PWD/../../target/wasm-floor" \
    cargo build --locked --quiet --release --target wasm32-unknown-unknown)
wasm-bindgen --target=web --out-name=floor --out-dir="$out" \
  target/wasm-floor/wasm32-unknown-unknown/release/wasm_floor.wasm
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$out/floor_bg.wasm" -o "$out/floor.wasm"

node - "$out/floor.wasm" <<'JS'
const { readFileSync } = require('node:fs');
const { brotliCompressSync, gzipSync, constants } = require('node:zlib');
const bytes = readFileSync(process.argv[2]);
const kb = (n) => (n / 1024).toFixed(1);
const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
console.log(`minimal Leptos app wasm: ${kb(bytes.length)} KB raw, ${kb(gzipSync(bytes, { level: 9 }).length)} KB gzip, ${kb(brotli)} KB brotli`);
JS
