import { expect, test, type Page } from "@playwright/test";
import { ACCESS_TOKEN_TTL_SECONDS, OIDC_LABEL } from "../playwright.config";
import { loggedIn, PASSWORD, registerThroughTheForm, sessionIdOf, uniqueEmail } from "./helpers";

// Social login against a real OpenID Connect provider (end2end/oidc/provider.mjs) on
// `localhost`, while the app is on 127.0.0.1: two sites, so the flow cookie must survive a
// cross-site top-level redirect (SameSite=Lax) and the refresh cookie (SameSite=Strict) must
// still reach the refresh call the account page makes.

/** Logs in at the provider's own pages as `login`, and consents. */
async function atTheProvider(page: Page, login: string) {
  await expect(page).toHaveURL(/^http:\/\/localhost:\d+\//);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("anything");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
}

async function continueWithTheProvider(page: Page, login: string) {
  await page.goto("/login");
  await page.getByRole("link", { name: `Continue with ${OIDC_LABEL}` }).click();
  await atTheProvider(page, login);
}

test("Continue with the provider: logged in on /account, refreshed silently, still logged in after a reload", async ({ page }) => {
  const email = uniqueEmail();
  const urls: string[] = [];
  page.on("request", (request) => urls.push(request.url()));
  await continueWithTheProvider(page, email);
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/account$/);
  await loggedIn(page, email);
  const session = await sessionIdOf(page);

  // The usual silent refresh: a new access token for the same session, no reload.
  const refreshed = page.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.status() === 200, {
    timeout: (ACCESS_TOKEN_TTL_SECONDS + 5) * 1000,
  });
  await refreshed;
  await page.reload();
  await loggedIn(page, email);
  expect(await sessionIdOf(page)).toBe(session);

  // No token ever travelled in a URL: only the provider's code did.
  expect(urls.filter((url) => /eyJ[\w-]+\.[\w-]+\./.test(url))).toEqual([]);
  await page.getByRole("link", { name: "Sessions" }).click();
  await expect(page.getByRole("list", { name: "Sessions" })).toContainText(`with ${OIDC_LABEL}`);
  await expect(page.getByRole("list", { name: "Linked accounts" })).toContainText(email);
  await expect(page.getByRole("heading", { name: "Set a password" })).toBeVisible();
});

test("an account with the same email is not linked silently: the page says why and how to link", async ({ page, context }) => {
  const email = await registerThroughTheForm(page);
  await context.clearCookies();
  await continueWithTheProvider(page, email);
  await expect(page).toHaveURL(/\/login\/problem\?reason=account_exists/);
  await expect(page.getByRole("alert")).toContainText("An account with this email already exists");
  await expect(page.getByRole("alert")).toContainText(`Link ${OIDC_LABEL}`);
  await page.getByRole("link", { name: "Back to log in" }).click();
  await expect(page).toHaveURL(/\/login$/);
});

test("a logged-in user links the provider from the sessions page, then logs in with it", async ({ page, browser }) => {
  const email = await registerThroughTheForm(page);
  const login = `${uniqueEmail()}`; // the provider account: another address than the tokenpair one
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("button", { name: `Link ${OIDC_LABEL}` }).click();
  await atTheProvider(page, login);
  await expect(page).toHaveURL(/\/sessions\?linked=e2e$/);
  await expect(page.getByRole("status")).toHaveText("Linked e2e.");
  const linked = page.getByRole("list", { name: "Linked accounts" });
  await expect(linked).toContainText(OIDC_LABEL);
  await expect(linked).toContainText(login);
  await expect(page.getByRole("list", { name: "Security events" })).toContainText("identity linked");

  // Another browser: the provider account logs in to the same tokenpair account.
  const other = await (await browser.newContext()).newPage();
  await continueWithTheProvider(other, login);
  await expect(other).toHaveURL(/\/account$/);
  await loggedIn(other, email);

  // With a password, the identity may be unlinked; the button is gone, "Link" is back.
  await page.reload();
  await linked.getByRole("button", { name: "Unlink" }).click();
  await expect(page.getByRole("status")).toHaveText("Unlinked.");
  await expect(page.getByRole("button", { name: `Link ${OIDC_LABEL}` })).toBeVisible();
  expect(PASSWORD).toBeTruthy();
});

test("a provider that has not verified the email gets no new account", async ({ page }) => {
  await continueWithTheProvider(page, `${uniqueEmail()}.unverified`);
  await expect(page).toHaveURL(/\/login\/problem\?reason=email_unverified/);
  await expect(page.getByRole("alert")).toContainText("did not confirm an email");
});
