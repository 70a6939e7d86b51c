// The client's weight and speed, for scripts/bench.sh:
// - the release bundle's sizes (raw, gzip -9, brotli q11) of the wasm and the JS glue;
// - time from navigation to hydrated-and-clickable in headless Chromium: the login page's
//   submit button is server-rendered disabled and enabled by the Wasm app once it hydrates;
//   and for /account, a lazy route whose chunks load before it hydrates: the server renders
//   "Restoring your session…", the hydrated app shows a logged-out visitor "Please log in".
// Usage: node bench/client.mjs <site pkg dir> <base url> <out.json> [runs]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { chromium } from '@playwright/test';

const [pkgDir, base, out, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 9);

const kb = (bytes) => Math.round((bytes / 1024) * 10) / 10;
const sizes = {};
for (const file of readdirSync(pkgDir).filter((f) => /\.(wasm|js)$/.test(f))) {
  const bytes = readFileSync(join(pkgDir, file));
  sizes[file] = {
    raw_kb: kb(bytes.length),
    gzip_kb: kb(gzipSync(bytes, { level: 9 }).length),
    brotli_kb: kb(brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length),
  };
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || undefined });

/** Loads `path` with a cold cache `runs` times; each time, when `ready()` first holds in the page. */
async function timeToReady(path, ready) {
  const timings = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext(); // a cold cache every time
    const page = await context.newPage();
    await page.goto(`${base}${path}`, { waitUntil: 'commit' });
    // performance.now() counts from the start of the navigation; a MutationObserver notes the
    // moment `ready` holds.
    const readyAt = await page.evaluate(
      (readySource) =>
        new Promise((resolve, reject) => {
          const ready = new Function(`return (${readySource})()`);
          setTimeout(() => reject(new Error('the page did not hydrate within 30 s')), 30_000);
          if (ready()) return resolve(performance.now());
          new MutationObserver((_, observer) => {
            if (!ready()) return;
            observer.disconnect();
            resolve(performance.now());
          }).observe(document, { subtree: true, childList: true, attributes: true });
        }),
      ready.toString(),
    );
    const navigation = await page.evaluate(() => performance.getEntriesByType('navigation')[0]?.responseEnd ?? 0);
    timings.push({ clickable_ms: readyAt, html_received_ms: navigation });
    await context.close();
  }
  return timings;
}

const timings = await timeToReady('/login', () => {
  const button = document.querySelector('form button[type=submit]');
  return button && !button.disabled;
});
const lazyTimings = await timeToReady('/account', () =>
  [...document.querySelectorAll('h2')].some((h) => h.textContent === 'Please log in'),
);
await browser.close();

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const result = {
  bundle: sizes,
  hydration: {
    runs,
    page: '/login',
    median_navigation_to_clickable_ms: Math.round(median(timings.map((t) => t.clickable_ms))),
    median_navigation_to_html_ms: Math.round(median(timings.map((t) => t.html_received_ms))),
  },
  lazy_route_hydration: {
    runs,
    page: '/account',
    median_navigation_to_hydrated_ms: Math.round(median(lazyTimings.map((t) => t.clickable_ms))),
  },
};
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
