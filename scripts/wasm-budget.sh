#!/usr/bin/env bash
# Fails when the release wasm, brotli-compressed as a server or CDN would send it, outgrows
# its budget. Run after `cargo leptos build --release` (CI does; see .ci/run).
#   WASM_BUDGET_KB overrides the budget.
set -euo pipefail
cd "$(dirname "$0")/.."

# Issue 7 asks for 150 KB; the bundle is not there yet (README, "The client's weight"). Until it
# is, this budget sits just above today's size, so the bundle can shrink but cannot creep.
budget_kb="${WASM_BUDGET_KB:-255}"
wasm=target/site/pkg/tokenpair.wasm

node - "$wasm" "$budget_kb" <<'JS'
const { readFileSync } = require('node:fs');
const { brotliCompressSync, gzipSync, constants } = require('node:zlib');
const [file, budget] = process.argv.slice(2);
const bytes = readFileSync(file);
const kb = (n) => (n / 1024).toFixed(1);
const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const gzip = gzipSync(bytes, { level: 9 }).length;
console.log(`${file}: ${kb(bytes.length)} KB raw, ${kb(gzip)} KB gzip, ${kb(brotli)} KB brotli (budget ${budget} KB brotli)`);
if (brotli / 1024 > Number(budget)) {
  console.error(`the wasm is over its budget by ${kb(brotli - budget * 1024)} KB`);
  process.exit(1);
}
JS
