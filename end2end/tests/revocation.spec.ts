import { expect, test, type APIRequestContext, type Browser, type Page } from "@playwright/test";
import { loggedIn, loggedOut, PASSWORD, REFRESH_COOKIE, registerThroughTheForm, submitCredentials, uniqueEmail } from "./helpers";

const HINT_COOKIE = "__Host-tokenpair-logged-in";

/** Logs `email` in from a fresh browser context; the page and the access token its login got. */
async function loginElsewhere(browser: Browser, email: string): Promise<{ page: Page; accessToken: string }> {
  const page = await (await browser.newContext()).newPage();
  await page.goto("/login");
  const login = page.waitForResponse((r) => r.url().endsWith("/api/auth/login") && r.status() === 200);
  await submitCredentials(page, email, PASSWORD, "Log in");
  const { access_token } = await (await login).json();
  await expect(page).toHaveURL(/\/account$/);
  return { page, accessToken: access_token };
}

/** Asks /api/me with `token` (no cookies) until it is refused; the milliseconds that took. */
async function msUntilRefused(request: APIRequestContext, token: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    const response = await request.get("/api/me", { headers: { Authorization: `Bearer ${token}` } });
    if (response.status() === 401) {
      expect((await response.json()).error).toBe("session_revoked");
      return Date.now() - started;
    }
    expect(response.status()).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
  }
}

test("a session revoked from another device: a copied bearer token dies within a second, its tab logs out at its next call", async ({ page, browser, playwright }) => {
  const email = await registerThroughTheForm(page);
  const phone = await loginElsewhere(browser, email);
  const thief = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });
  // The phone's token is bound to its key (DPoP): a copy is refused outright.
  const copied = await thief.get("/api/me", { headers: { Authorization: `Bearer ${phone.accessToken}` } });
  expect(copied.status()).toBe(401);
  // A client without a key (curl, a script) holds a plain bearer token: that copy works until revoked.
  const cli = await (await thief.post("/api/auth/login", { data: { email, password: PASSWORD } })).json();
  expect(cli.token_type).toBe("Bearer");
  expect((await thief.get("/api/me", { headers: { Authorization: `Bearer ${cli.access_token}` } })).status()).toBe(200);

  // The phone's next call after the revocation is refused: a page's API call (401
  // session_revoked, then its one refresh 401), or its scheduled refresh if that comes first.
  const refused = phone.page.waitForResponse(
    (r) => ["/api/auth/sessions", "/api/auth/refresh"].includes(new URL(r.url()).pathname) && r.status() === 401,
  );
  await page.getByRole("link", { name: "Sessions" }).click();
  await expect(page.getByRole("list", { name: "Sessions" }).getByRole("listitem")).toHaveCount(3);
  await page.getByRole("button", { name: "Log out other sessions" }).click();
  await expect(page.getByRole("list", { name: "Sessions" }).getByRole("listitem")).toHaveCount(1);

  expect(await msUntilRefused(thief, cli.access_token)).toBeLessThan(1_000);
  await phone.page.getByRole("link", { name: "Sessions" }).click();
  await refused;
  await loggedOut(phone.page).toBeVisible();
  await thief.dispose();
});

test("the lab revokes a copied token and shows the delay; the inspector counts the revocation", async ({ page, browser }) => {
  const email = await registerThroughTheForm(page);
  const other = await loginElsewhere(browser, email);
  await page.getByRole("link", { name: "Lab" }).click();
  const demo = page.getByRole("article", { name: "Revoke a stolen token" });
  await demo.getByRole("button", { name: "Steal it, then log out everywhere" }).click();

  await expect(demo.getByLabel("Verdict")).toHaveText(/^Revoked in \d+ ms/);
  await expect(demo).toContainText("from the page → 200");
  const shown = Number(/→ 401 after (\d+) ms/.exec((await demo.textContent()) ?? "")?.[1]);
  expect(shown).toBeLessThan(1_000);

  // Everywhere includes this tab and the other device: each is logged out at its next call.
  await other.page.getByRole("link", { name: "Sessions" }).click();
  await loggedOut(other.page).toBeVisible();
  await page.getByRole("link", { name: "Inspector" }).click();
  await loggedOut(page).toBeVisible();
  await page.goto("/login");
  await submitCredentials(page, email, PASSWORD, "Log in");
  // The login lands on /account: a click before that would be undone by its navigation.
  await expect(page).toHaveURL(/\/account$/);
  await loggedIn(page, email);
  await page.getByRole("link", { name: "Inspector" }).click();
  // Both sessions revoked by "log out everywhere", and the one the new login replaced (none).
  await expect(page.getByLabel("Revocations in memory")).toHaveText(/^([2-9]|\d\d+)$/);
});

test("a refresh cookie planted a second time is refused: the victim is never logged into the attacker's account", async ({ page, context, request }) => {
  const victim = await registerThroughTheForm(page);
  const attackerEmail = uniqueEmail();
  const attacker = await request.post("/api/auth/register", { data: { email: attackerEmail, password: PASSWORD } });
  const planted = /__Secure-tokenpair-refresh=([^;]+)/.exec(attacker.headers()["set-cookie"] ?? "")?.[1];
  expect(planted).toBeDefined();
  // What a sibling subdomain can do with Domain=: a second cookie of the same name, wider path.
  await context.addCookies([{ name: REFRESH_COOKIE, value: planted!, domain: "127.0.0.1", path: "/", secure: true, sameSite: "Lax" }]);

  const refresh = page.waitForResponse((r) => r.url().endsWith("/api/auth/refresh"));
  await page.reload();
  expect((await refresh).status()).toBe(400);
  await loggedOut(page).toBeVisible();
  await expect(page.getByText(attackerEmail)).toHaveCount(0);

  await page.goto("/login");
  await submitCredentials(page, victim, PASSWORD, "Log in");
  await expect(page.getByRole("alert").filter({ hasText: "more than once" })).toBeVisible();
  await context.clearCookies({ name: REFRESH_COOKIE, path: "/" });
  await submitCredentials(page, victim, PASSWORD, "Log in");
  await loggedIn(page, victim);
});

test("after a logout the back button shows no account data and makes no authenticated call", async ({ page, context }) => {
  const email = await registerThroughTheForm(page);
  const authenticated: string[] = [];
  let loggedOutYet = false;
  page.on("request", (r) => {
    if (loggedOutYet && (r.headers()["authorization"] || r.url().endsWith("/api/auth/refresh"))) authenticated.push(r.url());
  });
  await page.getByRole("link", { name: "Sessions" }).click();
  await expect(page.getByRole("list", { name: "Sessions" })).toBeVisible();
  await page.getByRole("main").getByRole("button", { name: "Log out everywhere" }).click();
  await loggedOut(page).toBeVisible();
  loggedOutYet = true;

  await page.goBack();
  await expect(page).toHaveURL(/\/account$/);
  await loggedOut(page).toBeVisible();
  await expect(page.getByText(email)).toHaveCount(0);
  expect(authenticated).toEqual([]);

  // A page restored from the back/forward cache re-checks: here logged in again, then the
  // hint cookie gone (a logout elsewhere), then restored: forgotten at once, with no request.
  await page.goto("/login");
  await submitCredentials(page, email, PASSWORD, "Log in");
  await loggedIn(page, email);
  await context.clearCookies({ name: HINT_COOKIE });
  const requestsBefore = authenticated.length;
  await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent("pageshow", { persisted: true })));
  await loggedOut(page).toBeVisible();
  await expect(page.getByText(email)).toHaveCount(0);
  expect(authenticated.length).toBe(requestsBefore);
});
