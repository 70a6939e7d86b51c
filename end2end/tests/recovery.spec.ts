import { expect, request as newRequest, test } from "@playwright/test";
import { linkInMail, loggedIn, loggedOut, mailsTo, registerThroughTheForm, submitCredentials } from "./helpers";

const NEW_PASSWORD = "a fresh and long passphrase";
const RESET_SUBJECT = "Reset your tokenpair password";
const VERIFY_SUBJECT = "Confirm your email address for tokenpair";

test("forgot password: the mailed link sets a new one, logs this browser in and every other session out", async ({ browser, page }) => {
  // Logged in elsewhere: another browser (context) that holds a session of the account.
  const email = await registerThroughTheForm(page);

  const forgetful = await browser.newContext();
  const here = await forgetful.newPage();
  await here.goto("/login");
  await here.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(here).toHaveURL(/\/forgot-password$/);
  const send = here.getByRole("button", { name: "Send the link" });
  await expect(send).toBeEnabled();
  await here.getByLabel("Email").fill(email);
  await send.click();
  await expect(here.getByRole("status")).toContainText("If an account uses this address");
  const link = await linkInMail(email, RESET_SUBJECT, "/reset-password");

  // A mail scanner fetches the link first, without cookies, with GET and with HEAD.
  const scanner = await newRequest.newContext();
  // Each on a connection of its own: a HEAD reusing the GET's kept-alive connection was
  // intermittently reset (ECONNRESET, about one run in five since issue 18, cause not found yet).
  expect((await scanner.get(link, { headers: { connection: "close" } })).status()).toBe(200);
  expect((await scanner.head(link)).status()).toBe(200);
  await scanner.dispose();

  await here.goto(link);
  const setIt = here.getByRole("button", { name: "Set the password" });
  await expect(setIt).toBeEnabled();
  await here.getByLabel("New password").fill(NEW_PASSWORD);
  await setIt.click();
  await expect(here).toHaveURL(/\/account$/);
  await loggedIn(here, email);

  // The other browser's access token is refused at its next call, its refresh too.
  await loggedOut(page);

  // The same link again: it has been used.
  const later = await forgetful.newPage();
  await later.goto(link);
  await expect(later.getByRole("button", { name: "Set the password" })).toBeEnabled();
  await later.getByLabel("New password").fill("yet another long passphrase");
  await later.getByRole("button", { name: "Set the password" }).click();
  await expect(later.getByRole("alert").filter({ hasText: "expired" })).toBeVisible();
  await expect(later.getByRole("link", { name: "Ask for a new link" })).toBeVisible();

  // The new password logs in; the old one does not.
  const fresh = await browser.newContext();
  const check = await fresh.newPage();
  await check.goto("/login");
  await submitCredentials(check, email, NEW_PASSWORD, "Log in");
  await expect(check).toHaveURL(/\/account$/);
  await Promise.all([forgetful.close(), fresh.close()]);
});

test("an address is verified by the link in its mail, and the account page says so", async ({ page }) => {
  const email = await registerThroughTheForm(page);
  await expect(page.getByLabel("Email status")).toHaveText("Address not verified yet.");

  // Ask for the mail again: the newer link voids the first.
  await page.getByRole("button", { name: "Send the confirmation mail again" }).click();
  await expect(page.getByText("Sent: open the link in the mail.")).toBeVisible();
  await expect.poll(() => mailsTo(email).filter((m) => m.subject === VERIFY_SUBJECT).length).toBe(2);
  const link = await linkInMail(email, VERIFY_SUBJECT, "/verify-email");

  await page.goto(link);
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await expect(page.getByRole("status")).toHaveText("Your address is confirmed. Thank you!");

  await page.goto("/account");
  await loggedIn(page, email);
  await expect(page.getByLabel("Email status")).toHaveText("Address verified.");
});

test("a made-up link says it has expired", async ({ page }) => {
  await page.goto("/reset-password#token=bm90LWEtdG9rZW4td2UtZXZlci1zZW50");
  await expect(page.getByRole("button", { name: "Set the password" })).toBeEnabled();
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set the password" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "expired" })).toBeVisible();
});
