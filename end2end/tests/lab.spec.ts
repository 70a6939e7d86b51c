import { expect, test, type Page } from "@playwright/test";
import { loggedOut, PASSWORD, registerThroughTheForm } from "./helpers";

async function run(page: Page, title: string, button: string) {
  const demo = page.getByRole("article", { name: title });
  await demo.getByRole("button", { name: button }).click();
  return demo.getByLabel("Verdict");
}

test.describe("the attack lab", () => {
  let email = "";
  test.beforeEach(async ({ page }) => {
    email = await registerThroughTheForm(page);
    await page.getByRole("link", { name: "Lab" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Lab mode is ON" })).toBeVisible();
  });

  test("a stolen access token and a copied refresh cookie are useless without the browser's key", async ({ page }) => {
    const verdict = await run(page, "Steal the access token", "Steal and use it");
    await expect(verdict).toHaveText(/^Useless elsewhere: the copied token and the copied refresh cookie/);
    const demo = page.getByRole("article", { name: "Steal the access token" });
    await expect(demo).toContainText("from a context without the key → 401");
    await expect(demo).toContainText("its key signing the proof → 200");
    await expect(demo).toContainText("no key → 401 (refused: dpop key mismatch)");
  });

  test("document.cookie holds no refresh token", async ({ page }) => {
    await expect(await run(page, "Look for the refresh token", "Read document.cookie")).toHaveText(/^Out of reach/);
  });

  test("the honest caveat: script in the page can refresh, the key signing for it", async ({ page }) => {
    await expect(await run(page, "The honest caveat", "Call refresh from the page")).toHaveText(/^It works/);
  });

  test("forged tokens are each refused with the server's reason", async ({ page }) => {
    await expect(await run(page, "Forged tokens", "Forge and send")).toHaveText("All 4 forgeries refused.");
    await expect(page.getByRole("article", { name: "Forged tokens" })).toContainText("alg: none, no signature → 401");
  });

  test("a cross-site request to the refresh endpoint is blocked", async ({ page }) => {
    const popup = page.waitForEvent("popup");
    const verdict = await run(page, "A cross-site request", "Open a page on another site");
    await (await popup).waitForLoadState();
    await expect(verdict).toHaveText(/^Blocked/, { timeout: 10_000 });
  });

  test("replaying a stolen refresh token revokes the session and records why", async ({ page, request }, testInfo) => {
    await page.screenshot({ path: testInfo.outputPath("lab.png"), fullPage: true });
    const verdict = await run(page, "Replay a stolen refresh token", "Copy, rotate twice, replay");
    await expect(verdict).toHaveText(/^Reuse detected/);
    await page.screenshot({ path: testInfo.outputPath("lab-after-replay.png"), fullPage: true });
    await loggedOut(page).toBeVisible({ timeout: 10_000 });
    const login = await (await request.post("/api/auth/login", { data: { email, password: PASSWORD } })).json();
    const events = await (await request.get("/api/auth/events", { headers: { Authorization: `Bearer ${login.access_token}` } })).json();
    expect(events.map((e: { kind: string }) => e.kind)).toContain("reuse_detected");
  });
});
