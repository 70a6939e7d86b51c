import { expect, test } from "@playwright/test";
import { ACCESS_TOKEN_TTL_SECONDS } from "../playwright.config";
import { registerThroughTheForm } from "./helpers";

test("the inspector shows live refreshes, a moving countdown, the decoded token, the chain and the counters", async ({ page }, testInfo) => {
  await registerThroughTheForm(page);
  await page.getByRole("link", { name: "Inspector" }).click();

  const countdown = page.getByLabel("Countdown");
  const first = await countdown.textContent();
  await expect(countdown).not.toHaveText(first ?? "", { timeout: 3000 });
  await expect(page.getByLabel("Refreshes")).toHaveText(/^[2-9]|\d\d/, { timeout: 3 * ACCESS_TOKEN_TTL_SECONDS * 1000 });

  await expect(page.getByLabel("Token header")).toContainText('"typ": "at+jwt"');
  await expect(page.getByLabel("Token claims")).toContainText('"sid"');
  const links = page.getByRole("list", { name: "Rotation chain" }).getByRole("listitem");
  await expect.poll(() => links.count(), { timeout: 5000 }).toBeGreaterThanOrEqual(3);
  await expect(page.getByRole("list", { name: "Decisions" })).toContainText("refresh");
  const refreshRow = page.getByRole("table", { name: "Metrics" }).getByRole("row").filter({ hasText: "POST /api/auth/refresh" });
  await expect(refreshRow).toBeVisible();

  await page.screenshot({ path: testInfo.outputPath("inspector.png"), fullPage: true });
  await testInfo.attach("inspector", { path: testInfo.outputPath("inspector.png"), contentType: "image/png" });
});
