import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { MAILDIR } from "../playwright.config";

export const PASSWORD = "correct horse battery";
export const REFRESH_COOKIE = "__Secure-tokenpair-refresh";

export function uniqueEmail(): string {
  return `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** Fills and submits the register or login form once the page is hydrated. */
export async function submitCredentials(page: Page, email: string, password: string, button: string) {
  const submit = page.getByRole("button", { name: button });
  // The button is enabled by the Wasm app once it has hydrated: typing earlier would be lost.
  await expect(submit).toBeEnabled();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await submit.click();
}

export async function registerThroughTheForm(page: Page, email = uniqueEmail()): Promise<string> {
  await page.goto("/register");
  await submitCredentials(page, email, PASSWORD, "Create account");
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByLabel("Email", { exact: true })).toHaveText(email);
  return email;
}

/** Counts the responses of one endpoint by status, as they happen. */
export function countResponses(page: Page, path: string): Map<number, number> {
  const counts = new Map<number, number>();
  page.on("response", (response) => {
    if (new URL(response.url()).pathname === path) {
      counts.set(response.status(), (counts.get(response.status()) ?? 0) + 1);
    }
  });
  return counts;
}

export const loggedIn = (page: Page, email: string) =>
  expect(page.getByLabel("Email", { exact: true })).toHaveText(email);
export const loggedOut = (page: Page) => expect(page.getByRole("heading", { name: "Please log in" }));

/** The session id the account page shows (from /api/me). */
export async function sessionIdOf(page: Page): Promise<string> {
  await expect(page.getByLabel("API check")).toHaveText("200 OK");
  const json = await page.locator("pre.json").textContent();
  return JSON.parse(json ?? "{}").session_id;
}

/** Rotations the server recorded for one session, read from the user's security events. */
export async function rotationsOf(request: APIRequestContext, email: string, sessionId: string): Promise<number> {
  const login = await request.post("/api/auth/login", { data: { email, password: PASSWORD } });
  const { access_token } = await login.json();
  const events = await (await request.get("/api/auth/events", { headers: { Authorization: `Bearer ${access_token}` } })).json();
  return events.filter((e: { kind: string; session_id: string }) => e.kind === "refresh" && e.session_id === sessionId).length;
}

export type Mail = { recipient: string; subject: string; text: string };

/** Every mail the SMTP server has received for `recipient`, oldest first. */
export function mailsTo(recipient: string): Mail[] {
  const folder = join(MAILDIR, "new");
  if (!existsSync(folder)) return [];
  const files = readdirSync(folder)
    .map((name) => join(folder, name))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  return files
    .map((file) => parseMail(readFileSync(file, "utf8")))
    .filter((mail): mail is Mail => mail !== null && mail.recipient.toLowerCase() === recipient.toLowerCase());
}

function parseMail(raw: string): Mail | null {
  const [head, ...rest] = raw.replace(/\r\n/g, "\n").split("\n\n");
  const header = (name: string) =>
    head.split("\n").find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim();
  const recipient = header("X-RcptTo");
  const subject = header("Subject");
  const body = rest.join("\n\n");
  const quoted = header("Content-Transfer-Encoding")?.toLowerCase() === "quoted-printable";
  return recipient && subject ? { recipient, subject, text: quoted ? decodeQuotedPrintable(body) : body } : null;
}

/** RFC 2045 quoted-printable: soft line breaks go, `=XX` is the byte XX (UTF-8 text). */
function decodeQuotedPrintable(body: string): string {
  const escaped = body.replace(/%/g, "%25").replace(/=\n/g, "").replace(/=([0-9A-F]{2})/gi, "%$1");
  return decodeURIComponent(escaped);
}

/** Waits for a mail to `recipient` whose subject is `subject`; the link in it to `page`. */
export async function linkInMail(recipient: string, subject: string, page: string): Promise<string> {
  let link = "";
  await expect
    .poll(() => {
      const mail = mailsTo(recipient).reverse().find((m) => m.subject === subject);
      link = mail?.text.match(new RegExp(`\\S*${page}#token=\\S+`))?.[0] ?? "";
      return link;
    }, { timeout: 20_000 })
    .not.toBe("");
  return link;
}
