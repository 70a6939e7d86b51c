import { expect, test } from "@playwright/test";
import { PASSWORD, submitCredentials, uniqueEmail } from "./helpers";

test("logging in through the form lands on the account page", async ({ page, request }) => {
  const email = uniqueEmail();
  const created = await request.post("/api/auth/register", { data: { email, password: PASSWORD } });
  expect(created.status()).toBe(201);

  await page.goto("/login");
  await submitCredentials(page, email, PASSWORD, "Log in");

  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByLabel("Email", { exact: true })).toHaveText(email);
  await expect(page.getByLabel("API check")).toHaveText("200 OK");
});

test("a wrong password shows the server's message and keeps the visitor logged out", async ({ page }) => {
  await page.goto("/login");
  await submitCredentials(page, uniqueEmail(), "not the password", "Log in");
  await expect(page.getByText("invalid email or password")).toBeVisible();
  await expect(page).toHaveURL(/\/login$/);
});

test("validation messages appear next to their field", async ({ page }) => {
  await page.goto("/register");
  await submitCredentials(page, uniqueEmail(), "short", "Create account");
  await expect(page.getByText("password must be at least 8 characters")).toBeVisible();
  await expect(page.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");

  await submitCredentials(page, "not-an-email", PASSWORD, "Create account");
  await expect(page.getByText("email must be a valid email address")).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
});

test("registering an email twice says it is taken", async ({ page, request }) => {
  const email = uniqueEmail();
  await request.post("/api/auth/register", { data: { email, password: PASSWORD } });
  await page.goto("/register");
  await submitCredentials(page, email, PASSWORD, "Create account");
  await expect(page.getByText("an account with this email already exists")).toBeVisible();
});
