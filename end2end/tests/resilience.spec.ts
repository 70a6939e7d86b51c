import { expect, test } from "@playwright/test";
import { ACCESS_TOKEN_TTL_SECONDS } from "../playwright.config";
import { loggedIn, loggedOut, registerThroughTheForm } from "./helpers";

const TTL_MS = ACCESS_TOKEN_TTL_SECONDS * 1000;
const isRefresh = (url: string) => url.endsWith("/api/auth/refresh");

test("a reload in the middle of a refresh keeps the user logged in", async ({ page }) => {
  const email = await registerThroughTheForm(page);
  let reloaded: Promise<unknown> | undefined;
  await page.route("**/api/auth/refresh", async (route) => {
    const response = await route.fetch(); // the server rotates and commits
    reloaded ??= page.reload(); // ...and the page goes away before the answer lands
    await reloaded;
    await route.fulfill({ response }).catch(() => {});
  }, { times: 1 });

  await expect.poll(() => reloaded !== undefined, { timeout: TTL_MS * 2 }).toBe(true);
  await reloaded;
  await loggedIn(page, email);
  await expect(page.getByLabel("API check")).toHaveText("200 OK");
});

test("a refresh answer lost after the server committed: the next attempt succeeds inside the grace window", async ({ page }) => {
  const email = await registerThroughTheForm(page);
  const statuses: number[] = [];
  page.on("response", (r) => isRefresh(r.url()) && statuses.push(r.status()));
  let dropped = false;
  await page.route("**/api/auth/refresh", async (route) => {
    await route.fetch(); // committed on the server
    dropped = true;
    await route.abort("connectionreset");
  }, { times: 1 });

  await expect.poll(() => dropped, { timeout: TTL_MS * 2 }).toBe(true);
  await expect.poll(() => statuses.filter((s) => s === 200).length, { timeout: 10_000 }).toBeGreaterThan(0);
  expect(statuses).not.toContain(401);
  await loggedIn(page, email);
  await expect(page.getByLabel("API check")).toHaveText("200 OK");
});

test("offline for two access lifetimes, then online: logged in again within 2 s, no login form", async ({ page, context }) => {
  const email = await registerThroughTheForm(page);
  await context.setOffline(true);
  await page.waitForTimeout(2 * TTL_MS);
  await expect(page.getByRole("status").filter({ hasText: "Reconnecting…" })).toBeVisible();

  await context.setOffline(false);

  await expect(page.getByLabel("API check")).toHaveText("200 OK", { timeout: 2000 });
  await expect(page.getByRole("status").filter({ hasText: "Reconnecting…" })).toHaveCount(0);
  await loggedIn(page, email);
  await expect(page.getByLabel("Password")).toHaveCount(0);
});

test("a refresh endpoint answering 503 three times, then 200: still logged in, with growing backoff", async ({ page }) => {
  const email = await registerThroughTheForm(page);
  const attempts: number[] = [];
  await page.route("**/api/auth/refresh", async (route) => {
    attempts.push(Date.now());
    if (attempts.length <= 3) {
      await route.fulfill({ status: 503, contentType: "application/json", body: '{"error":"unavailable","message":"try later"}' });
    } else {
      await route.continue();
    }
  });

  await expect.poll(() => attempts.length, { timeout: TTL_MS + 15_000 }).toBeGreaterThanOrEqual(4);
  await expect(page.getByLabel("API check")).toHaveText("200 OK");
  await loggedIn(page, email);
  const gaps = attempts.slice(1, 4).map((t, i) => t - attempts[i]);
  expect(gaps[0]).toBeGreaterThanOrEqual(400);
  expect(gaps[1]).toBeGreaterThanOrEqual(gaps[0] * 0.9);
  expect(gaps[2]).toBeGreaterThanOrEqual(gaps[1] * 0.9);
  expect(gaps[2]).toBeGreaterThan(gaps[0]);
  expect(attempts.length).toBe(4); // no extra calls from the page's API checks meanwhile
});

test("the client clock moved 3 h forward and back: no refresh storm, no logout", async ({ page }) => {
  const email = await registerThroughTheForm(page);
  const refreshes: number[] = [];
  page.on("request", (r) => isRefresh(r.url()) && refreshes.push(Date.now()));

  await page.clock.setSystemTime(Date.now() + 3 * 3600 * 1000);
  await page.waitForTimeout(TTL_MS);
  await page.clock.setSystemTime(Date.now());
  await page.waitForTimeout(TTL_MS);

  await loggedIn(page, email);
  await expect(page.getByLabel("API check")).toHaveText("200 OK");
  // Two lifetimes at one refresh per 80 % of a lifetime: 2 or 3 calls, not a storm.
  expect(refreshes.length).toBeLessThanOrEqual(3);
});

test("a logged-out visitor's page load sends no request to the refresh endpoint", async ({ page }) => {
  const calls: string[] = [];
  page.on("request", (r) => isRefresh(r.url()) && calls.push(r.url()));
  await page.goto("/account");
  await loggedOut(page).toBeVisible();
  await page.reload();
  await loggedOut(page).toBeVisible();
  expect(calls).toEqual([]);
});
