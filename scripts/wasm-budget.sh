#!/usr/bin/env bash
# Fails when the main wasm, brotli-compressed as a server or CDN would send it, outgrows its
# budget; prints the raw, gzip and brotli sizes of everything in the bundle, and what each lazy
# route adds on its first visit. Run after `cargo leptos build --release --split` (CI does; see
# .ci/run).
#   WASM_BUDGET_KB overrides the budget.
set -euo pipefail
cd "$(dirname "$0")/.."

# Issue 7's budget: what every first page load downloads of wasm, brotli-compressed.
budget_kb="${WASM_BUDGET_KB:-150}"

node - target/site/pkg "$budget_kb" <<'JS'
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const { brotliCompressSync, gzipSync, constants } = require('node:zlib');
const [pkg, budget] = process.argv.slice(2);

const kb = (n) => (n / 1024).toFixed(1);
const sizes = (file) => {
  const bytes = readFileSync(join(pkg, file));
  const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli };
};
const line = (label, s) => console.log(`${label.padEnd(28)} ${kb(s.raw).padStart(7)} KB raw ${kb(s.gzip).padStart(7)} KB gzip ${kb(s.brotli).padStart(7)} KB brotli`);

const main = sizes('tokenpair.wasm');
line('main wasm (every page)', main);
line('main js', sizes('tokenpair.js'));
const loader = readdirSync(pkg).find((f) => f.startsWith('__wasm_split') && f.endsWith('.js'));
if (loader) line('lazy-chunk loader js', sizes(loader));

// What a lazy route downloads on its first visit: its own chunk and the shared chunks it needs.
let manifest = {};
try { manifest = JSON.parse(readFileSync(join(pkg, '__wasm_split_manifest.json'), 'utf8')); } catch {}
for (const [lazy, chunks] of Object.entries(manifest)) {
  const route = lazy.replace(/^__/, '').replace(/_route_view_\d+$/, '');
  const total = chunks.map((c) => sizes(`${c}.wasm`)).reduce((a, s) => ({
    raw: a.raw + s.raw, gzip: a.gzip + s.gzip, brotli: a.brotli + s.brotli }), { raw: 0, gzip: 0, brotli: 0 });
  line(`  + /${route} (${chunks.length} chunks)`, total);
}

console.log(`budget: main wasm ${kb(main.brotli)} KB brotli of ${budget} KB`);
if (main.brotli / 1024 > Number(budget)) {
  console.error(`the main wasm is over its budget by ${kb(main.brotli - budget * 1024)} KB`);
  process.exit(1);
}
JS
