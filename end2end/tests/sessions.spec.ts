import { expect, test, type Browser, type Page } from "@playwright/test";
import { ACCESS_TOKEN_TTL_SECONDS } from "../playwright.config";
import { PASSWORD, REFRESH_COOKIE, registerThroughTheForm, submitCredentials } from "./helpers";

const loggedOut = (page: Page) => expect(page.getByRole("heading", { name: "Please log in" }));
// Long enough for a refresh to come due (at 80 % of the lifetime) and be answered.
const NEXT_REFRESH = { timeout: (ACCESS_TOKEN_TTL_SECONDS + 5) * 1000 };

async function loginInNewContext(browser: Browser, email: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto("/login");
  await submitCredentials(page, email, PASSWORD, "Log in");
  await expect(page).toHaveURL(/\/account$/);
  return page;
}

test("two devices appear on /sessions and revoking one logs it out at its next refresh", async ({ page, browser }) => {
  const email = await registerThroughTheForm(page);
  const phone = await loginInNewContext(browser, email);

  await page.getByRole("link", { name: "Sessions" }).click();
  const sessions = page.getByRole("list", { name: "Sessions" }).getByRole("listitem");
  await expect(sessions).toHaveCount(2);
  await expect(sessions.filter({ hasText: "This session" })).toHaveCount(1);

  await sessions.filter({ hasNotText: "This session" }).getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByRole("status")).toHaveText("Session revoked.");
  await expect(sessions).toHaveCount(1);

  await loggedOut(phone).toBeVisible(NEXT_REFRESH);
  await expect(page.getByRole("list", { name: "Security events" })).toContainText("session revoked");
  await page.goto("/account");
  await expect(page.getByLabel("API check")).toHaveText("200 OK");
});

test("a replayed old refresh cookie revokes the session: the thief and the user both end up logged out", async ({ page, context, browser }) => {
  await registerThroughTheForm(page);
  // The thief copies the browser's cookies: the refresh cookie (and the logged-in hint).
  const stolen = await context.cookies();
  expect(stolen.map((cookie) => cookie.name)).toContain(REFRESH_COOKIE);

  // Let the user's tab rotate the token twice: the stolen copy is now two generations old.
  const rotations = page.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.status() === 200);
  await rotations;
  await page.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.status() === 200);

  const thiefContext = await browser.newContext();
  await thiefContext.addCookies(stolen);
  const thief = await thiefContext.newPage();
  await thief.goto("/account");
  await loggedOut(thief).toBeVisible();

  await loggedOut(page).toBeVisible(NEXT_REFRESH);
});
