import { expect, test, type Page } from "@playwright/test";
import { loggedIn, loggedOut, REFRESH_COOKIE, registerThroughTheForm, sessionIdOf, uniqueEmail } from "./helpers";

/** The claims of a JWT, unverified. */
function claims(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}

/** What this origin's IndexedDB holds as its DPoP key: the public JWK, or null. */
async function storedKey(page: Page): Promise<string | null> {
  return page.evaluate(
    () =>
      new Promise<string | null>((resolve, reject) => {
        const open = indexedDB.open("tokenpair", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("keys");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction("keys").objectStore("keys").get("dpop");
          get.onsuccess = () => {
            const entry = get.result;
            // The private key is a CryptoKey no script can export: say so alongside its JWK.
            resolve(entry ? JSON.stringify({ jwk: entry.jwk, extractable: entry.key.extractable }) : null);
            open.result.close();
          };
        };
      }),
  );
}

/** Registers through the form; the access token the registration answered with. */
async function registerAndCopyToken(page: Page): Promise<{ email: string; token: string }> {
  const answer = page.waitForResponse((r) => r.url().endsWith("/api/auth/register") && r.status() === 201);
  const email = await registerThroughTheForm(page, uniqueEmail());
  const body = await (await answer).json();
  expect(body.token_type).toBe("DPoP");
  return { email, token: body.access_token };
}

test("a copied access token is refused from a context without the key while the page's own calls answer 200", async ({ page, playwright }) => {
  const { token } = await registerAndCopyToken(page);
  expect(claims(token).cnf.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const thief = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });
  for (const scheme of ["Bearer", "DPoP"]) {
    const copied = await thief.get("/api/me", { headers: { Authorization: `${scheme} ${token}` } });
    expect(copied.status(), scheme).toBe(401);
    expect(copied.headers()["www-authenticate"]).toContain('DPoP error="invalid_token"');
  }
  await thief.dispose();
  await page.reload();
  await expect(page.getByLabel("API check")).toHaveText("200 OK");
});

test("a copied refresh cookie is refused in a fresh browser context, and the owner's session goes on", async ({ page, context, browser }) => {
  const { email } = await registerAndCopyToken(page);
  const copied = (await context.cookies()).filter((c) => c.name.startsWith("__"));
  expect(copied.map((c) => c.name)).toContain(REFRESH_COOKIE);
  const elsewhere = await browser.newContext();
  await elsewhere.addCookies(copied);
  const thief = await elsewhere.newPage();
  const refused = thief.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.status() === 401);
  await thief.goto("/account");
  expect((await refused).status()).toBe(401);
  await loggedOut(thief).toBeVisible();
  await elsewhere.close();

  await page.reload();
  await loggedIn(page, email);
  await expect(page.getByLabel("API check")).toHaveText("200 OK");
});

test("reload keeps the session with the same key, two tabs share it, and logout deletes it", async ({ page, context }) => {
  const { email, token } = await registerAndCopyToken(page);
  const key = await storedKey(page);
  expect(key).not.toBeNull();
  expect(JSON.parse(key ?? "{}").extractable).toBe(false);
  const jkt = claims(token).cnf.jkt;

  const reloaded = page.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.status() === 200);
  await page.reload();
  expect(claims((await (await reloaded).json()).access_token).cnf.jkt).toBe(jkt);
  await loggedIn(page, email);
  const sessionId = await sessionIdOf(page);

  const second = await context.newPage();
  const secondRefresh = second.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.status() === 200);
  await second.goto("/account");
  expect(claims((await (await secondRefresh).json()).access_token).cnf.jkt).toBe(jkt);
  await loggedIn(second, email);
  expect(await sessionIdOf(second)).toBe(sessionId);
  expect(await storedKey(second)).toBe(key);

  await page.getByRole("link", { name: "Inspector" }).click();
  await expect(page.getByLabel("DPoP key thumbprint")).toHaveText(jkt);
  await expect(page.getByLabel("Access token binding")).toHaveText(/bound to this key/);

  await page.getByRole("button", { name: "Log out" }).first().click();
  await loggedOut(page).toBeVisible();
  await expect.poll(() => storedKey(page)).toBeNull();
  await loggedOut(second).toBeVisible();
});
