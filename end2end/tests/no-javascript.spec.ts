import { expect, test } from "@playwright/test";

test.use({ javaScriptEnabled: false });

test("public pages render completely without JavaScript", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Two tokens, one login" })).toBeVisible();
  await expect(page.getByRole("main").getByRole("link", { name: "Register" })).toBeVisible();
  await page.goto("/login");
  await expect(page.getByLabel("Email")).toBeVisible();
  await expect(page.getByLabel("Password")).toBeVisible();
});

test("the protected page says plainly why it needs JavaScript", async ({ page, request }) => {
  await page.goto("/account");
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  // Chromium with scripting switched off by Playwright still parses <noscript> as raw text,
  // so check what a browser without JavaScript receives: the explanation inside <noscript>.
  const html = await (await request.get("/account")).text();
  expect(html).toMatch(/<noscript>.*This page needs JavaScript\..*access token lives only in this tab's memory.*<\/noscript>/s);
});
