import { defineConfig, devices } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The tests run the real server binary (built by `cargo leptos build`) with short token
// lifetimes, on its own port and a fresh database, and stop it when they end.
const port = Number(process.env.E2E_PORT ?? 3100);
const dataDir = mkdtempSync(join(tmpdir(), "tokenpair-e2e-"));
export const ACCESS_TOKEN_TTL_SECONDS = 5;
// The social-login provider (oidc/provider.mjs) on `localhost`: another site than the app's
// 127.0.0.1. Its client secret is made up for this run.
const oidcPort = Number(process.env.E2E_OIDC_PORT ?? 3190);
const oidcSecret = randomBytes(24).toString("base64url");
export const OIDC_LABEL = "Test Provider";
// The SMTP server the mail tests read (aiosmtpd from .tools/venv, its Maildir handler): a
// fixed folder, since the tests run in worker processes that load this file again. Every
// test mails a fresh address, so mail left from an earlier run is never read.
const smtpPort = Number(process.env.E2E_SMTP_PORT ?? 3125);
export const MAILDIR = join(tmpdir(), `tokenpair-e2e-maildir-${port}`);

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [["list"], ["html", { open: "never" }]] : "list",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          // Debian's chromium where Playwright cannot download its own (see TOOLCHAIN notes).
          executablePath: process.env.CHROMIUM_PATH || undefined,
          args: [
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      },
    },
  ],
  webServer: [
  {
    command: `exec ../.tools/venv/bin/python -m aiosmtpd -n -l 127.0.0.1:${smtpPort} -c aiosmtpd.handlers.Mailbox ${MAILDIR}`,
    port: smtpPort,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    timeout: 30_000,
  },
  {
    command: "exec node oidc/provider.mjs",
    url: `http://localhost:${oidcPort}/.well-known/openid-configuration`,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    timeout: 30_000,
    env: {
      OIDC_PORT: String(oidcPort),
      APP_ORIGIN: `http://127.0.0.1:${port}`,
      OIDC_NAME: "e2e",
      OIDC_CLIENT_ID: "tokenpair-e2e",
      OIDC_CLIENT_SECRET: oidcSecret,
    },
  },
  {
    command: "exec ./target/debug/tokenpair",
    cwd: "..",
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    timeout: 60_000,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: `sqlite://${dataDir}/e2e.db`,
      ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_SECONDS),
      REFRESH_TOKEN_TTL: "300",
      // Every test logs in from 127.0.0.1: keep the limits out of the way (tests/api covers them).
      LOGIN_RATE_LIMIT: "1000/1m",
      LOGIN_ACCOUNT_RATE_LIMIT: "1000/1m",
      REFRESH_RATE_LIMIT: "1000/1m",
      RUST_LOG: "info",
      // The attack lab's demos that need capabilities a page never has (loopback only).
      TOKENPAIR_LAB: "1",
      OIDC_PROVIDERS: "e2e",
      OIDC_E2E_ISSUER: `http://localhost:${oidcPort}`,
      OIDC_E2E_CLIENT_ID: "tokenpair-e2e",
      OIDC_E2E_CLIENT_SECRET: oidcSecret,
      OIDC_E2E_LABEL: OIDC_LABEL,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    },
  },
  ],
});
