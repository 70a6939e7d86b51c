import { expect, test, type Page } from "@playwright/test";
import { registerThroughTheForm } from "./helpers";

// A phone: 390 CSS pixels wide. No page may be wider than that, logged out or logged in.
test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

const PAGES = ["/", "/login", "/register", "/account", "/sessions", "/inspector", "/lab", "/no-such-page"];

async function expectNoSidewaysScroll(page: Page, path: string) {
  await page.goto(path);
  await page.waitForLoadState("networkidle");
  const width = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    viewport: document.documentElement.clientWidth,
  }));
  expect(width.scroll, `${path} is ${width.scroll} px wide on a ${width.viewport} px screen`).toBeLessThanOrEqual(width.viewport);
}

test("no page scrolls sideways on a phone, logged out", async ({ page }) => {
  for (const path of PAGES) await expectNoSidewaysScroll(page, path);
});

test("no page scrolls sideways on a phone, logged in, and the navigation stays reachable", async ({ page }, testInfo) => {
  await registerThroughTheForm(page);
  for (const path of PAGES) await expectNoSidewaysScroll(page, path);
  await page.goto("/account");
  await expect(page.getByLabel("API check")).toHaveText("200 OK");
  for (const name of ["Account", "Sessions", "Inspector", "Lab"]) {
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name })).toBeInViewport();
  }
  await expect(page.getByRole("banner").getByRole("button", { name: "Log out" })).toBeInViewport();
  await page.screenshot({ path: testInfo.outputPath("account-phone.png"), fullPage: true });
});
