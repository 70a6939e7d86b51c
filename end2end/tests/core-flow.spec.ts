import { expect, test } from "@playwright/test";
import { ACCESS_TOKEN_TTL_SECONDS } from "../playwright.config";
import { countResponses, REFRESH_COOKIE, registerThroughTheForm } from "./helpers";

test("register, stay logged in through silent refreshes, reload, log out", async ({ page, context }) => {
  const refreshes = countResponses(page, "/api/auth/refresh");
  const meCalls = countResponses(page, "/api/me");

  const email = await registerThroughTheForm(page);
  const refreshesAtStart = refreshes.get(200) ?? 0;
  const refusalsAtStart = refreshes.get(401) ?? 0; // the visitor's boot refresh, before registering

  // Three access-token lifetimes on the page: it keeps calling the API, the token keeps
  // being renewed in the background, and nothing ever fails.
  await page.waitForTimeout(3 * ACCESS_TOKEN_TTL_SECONDS * 1000 + 500);
  await expect(page.getByLabel("API check")).toHaveText("200 OK");
  expect((refreshes.get(200) ?? 0) - refreshesAtStart).toBeGreaterThanOrEqual(2);
  expect(refreshes.get(401) ?? 0).toBe(refusalsAtStart);
  expect(meCalls.get(200) ?? 0).toBeGreaterThanOrEqual(4);
  expect([...meCalls.keys()].filter((status) => status !== 200)).toEqual([]);
  await expect(page.getByLabel("Email", { exact: true })).toHaveText(email);

  // Reload: memory is wiped, the refresh cookie brings the session back without a password.
  const beforeReload = refreshes.get(200) ?? 0;
  await page.reload();
  await expect(page.getByLabel("Email", { exact: true })).toHaveText(email);
  expect(refreshes.get(200) ?? 0).toBeGreaterThan(beforeReload);
  await expect(page.getByLabel("Password")).toHaveCount(0);

  // Log out: the server revokes the session and clears the cookie; the page asks to log in.
  await page.getByRole("main").getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("heading", { name: "Please log in" })).toBeVisible();
  expect((await context.cookies()).filter((c) => c.name === REFRESH_COOKIE)).toEqual([]);
  await page.reload();
  await expect(page.getByRole("heading", { name: "Please log in" })).toBeVisible();
});

test("the refresh token is out of reach of scripts and no token is in web storage", async ({ page, context }) => {
  await registerThroughTheForm(page);

  const cookies = await context.cookies();
  const refresh = cookies.find((cookie) => cookie.name === REFRESH_COOKIE);
  expect(refresh).toBeDefined();
  expect(refresh).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/api/auth" });
  expect(refresh?.domain).toBe("127.0.0.1");

  const seenByScripts = await page.evaluate(() => ({
    cookie: document.cookie,
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
  }));
  expect(seenByScripts.cookie).not.toContain("tokenpair-refresh");
  expect(seenByScripts.cookie).not.toContain("eyJ");
  for (const storage of [seenByScripts.local, seenByScripts.session]) {
    expect(storage).not.toContain("eyJ"); // every JWT starts with this
  }
});

test("a logged-out visitor sees the logged-out interface, no error, and costs no refresh call", async ({ page }) => {
  const refreshCalls: string[] = [];
  page.on("request", (r) => r.url().endsWith("/api/auth/refresh") && refreshCalls.push(r.url()));
  await page.goto("/account");
  await expect(page.getByRole("heading", { name: "Please log in" })).toBeVisible();
  await expect(page.getByRole("banner").getByRole("link", { name: "Log in" })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: /./ })).toHaveCount(0);
  await page.goto("/");
  await expect(page.getByRole("main").getByRole("link", { name: "Register" })).toBeVisible();
  expect(refreshCalls).toEqual([]);
});
