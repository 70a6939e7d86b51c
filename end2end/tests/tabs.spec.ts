import { expect, test, type BrowserContext, type Page } from "@playwright/test";
import { ACCESS_TOKEN_TTL_SECONDS } from "../playwright.config";
import { loggedIn, loggedOut, PASSWORD, registerThroughTheForm, rotationsOf, sessionIdOf, submitCredentials } from "./helpers";

const TTL_MS = ACCESS_TOKEN_TTL_SECONDS * 1000;
/// The client refreshes at 80 % of the lifetime.
const ROTATION_PERIOD_MS = TTL_MS * 0.8;

async function openAccount(context: BrowserContext, email: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto("/account");
  await loggedIn(page, email);
  return page;
}

test("three tabs through five access lifetimes: all stay logged in, one rotation per lifetime", async ({ page, context, request }) => {
  const email = await registerThroughTheForm(page);
  const tabs = [page, await openAccount(context, email), await openAccount(context, email)];
  const sessionId = await sessionIdOf(page);
  const before = await rotationsOf(request, email, sessionId);
  const started = Date.now();

  await page.waitForTimeout(5 * TTL_MS);

  const rotations = (await rotationsOf(request, email, sessionId)) - before;
  const periods = (Date.now() - started) / ROTATION_PERIOD_MS;
  for (const tab of tabs) {
    await loggedIn(tab, email);
    await expect(tab.getByLabel("API check")).toHaveText("200 OK");
  }
  // One tab refreshes, the others take its token: three tabs rotate as often as one would.
  expect(rotations).toBeGreaterThanOrEqual(Math.floor(periods) - 1);
  expect(rotations).toBeLessThanOrEqual(Math.ceil(periods) + 1);
});

test("logging out in one tab logs out the others within a second; logging in logs them in", async ({ page, context }) => {
  const email = await registerThroughTheForm(page);
  const others = [await openAccount(context, email), await openAccount(context, email)];

  await page.getByRole("main").getByRole("button", { name: "Log out" }).click();
  for (const tab of others) await loggedOut(tab).toBeVisible({ timeout: 1000 });

  await page.goto("/login");
  await submitCredentials(page, email, PASSWORD, "Log in");
  for (const tab of others) await loggedIn(tab, email);
});
