/**
 * Account settings (PROTOCOL.md 7.1) in the app: a new display name reaches the other person's
 * window; sessions are listed and signed out one by one or all at once; a password change signs
 * the other browser out with a reason; an erased account signs out and shows as deleted to others.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { unnamedControls } from "./a11y";
import { PASSWORD, row, send, signIn, signUp, startDm } from "./steps";

const baseUrl = inject("baseUrl");
const NEW_PASSWORD = "a brand new passphrase";

async function openSettings(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Settings", exact: true }).click();
  await page.getByRole("heading", { level: 2, name: "Account settings" }).waitFor();
}

/** The other browser is back at the sign-in screen, saying why. */
async function signedOutWithReason(page: Page): Promise<void> {
  await page.getByRole("alert").filter({ hasText: "You were signed out" }).waitFor({ timeout: 30_000 });
  await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
}

describe("account settings", () => {
  const ann = uniqueName("ann");
  const ben = uniqueName("ben");
  let a: Awaited<ReturnType<typeof person>>;
  let a2: Awaited<ReturnType<typeof person>>;
  let b: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    [a, a2, b] = await Promise.all([person(baseUrl), person(baseUrl), person(baseUrl)]);
    await signUp(a.page, ann);
    await signUp(b.page, ben);
    await startDm(a.page, ben);
    await send(a.page, "hello from ann");
    await row(b.page, ann).click();
    await b.page.getByRole("heading", { level: 2, name: ann, exact: true }).waitFor();
  });
  afterAll(async () => {
    await Promise.all([a?.close(), a2?.close(), b?.close()]);
  });

  it("changes the display name, and the other person sees it in their open DM and list", async () => {
    await openSettings(a.page);
    const name = a.page.getByRole("textbox", { name: "Name", exact: true });
    await name.fill("Ann Arbor");
    await a.page.getByRole("button", { name: "Save name" }).click();
    await a.page.getByRole("status").filter({ hasText: "Your name was changed." }).waitFor();
    await b.page.getByRole("heading", { level: 2, name: "Ann Arbor", exact: true }).waitFor({ timeout: 20_000 });
    await row(b.page, "Ann Arbor").waitFor({ timeout: 20_000 });
    // Escape leaves the settings and gives the focus back to the button that opened them.
    await name.press("Escape");
    await expect.poll(() => a.page.evaluate(() => document.activeElement?.id)).toBe("open-settings");
  });

  it("lists sessions with their device and signs one out, then all the others", async () => {
    await signIn(a2.page, ann, PASSWORD);
    await openSettings(a.page);
    const sessions = a.page.locator(".sessions li");
    await expect.poll(() => sessions.count()).toBe(2);
    expect(await unnamedControls(a.page)).toEqual([]);
    await expect.poll(() => a.page.locator(".sessions li[data-current=yes]").textContent()).toContain("Chrome, Linux (this device)");
    await a.page.getByRole("button", { name: /^Sign out Chrome, Linux, last used/ }).click();
    await signedOutWithReason(a2.page);
    await expect.poll(() => sessions.count()).toBe(1);

    await signIn(a2.page, ann, PASSWORD);
    await a.page.getByRole("button", { name: "Close", exact: true }).click();
    await openSettings(a.page);
    await expect.poll(() => sessions.count()).toBe(2);
    await a.page.getByRole("button", { name: "Sign out all other sessions" }).click();
    await a.page.getByRole("status").filter({ hasText: "Your other sessions were signed out." }).waitFor();
    await signedOutWithReason(a2.page);
  });

  it("refuses a wrong current password in words, and a change signs the other browser out", async () => {
    await signIn(a2.page, ann, PASSWORD);
    const page = a.page;
    await page.getByLabel("Current password").fill("not my password");
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong password." }).waitFor();
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByRole("status").filter({ hasText: "Your other devices were signed out." }).waitFor();
    await signedOutWithReason(a2.page);
    // This browser stays signed in, and the new password works elsewhere.
    await page.getByRole("heading", { level: 2, name: "Account settings" }).waitFor();
    await signIn(a2.page, ann, NEW_PASSWORD);
  });

  it("deletes an account behind its password, saying what happens; the other person sees a deleted account", async () => {
    const page = b.page;
    await openSettings(page);
    const section = page.getByRole("region", { name: "Delete account" });
    await section.getByText("Your direct messages stay readable").waitFor();
    await section.getByText("Your username is never given to anyone again.").waitFor();
    await section.getByLabel("Password").fill("not my password");
    await section.getByRole("checkbox", { name: "I understand what happens to my messages and my username" }).check();
    await section.getByRole("button", { name: "Delete my account" }).click();
    await section.getByRole("alert").filter({ hasText: "Wrong password." }).waitFor();
    // The server closes this browser's sockets (4401) before it answers. The answer is held here
    // until the app has gone back to the sign-in screen on that close, so the screen must still
    // say the account was deleted, not that another device signed this one out.
    let release!: () => void;
    const closed = new Promise<void>((r) => { release = r; });
    const answered: Promise<void>[] = [];
    await page.route("**/api/me", (route) => {
      if (route.request().method() !== "DELETE") return route.fallback();
      const answer = (async () => {
        const response = await route.fetch();
        await closed;
        await route.fulfill({ response });
      })();
      answered.push(answer);
      return answer;
    });
    await section.getByLabel("Password").fill(PASSWORD);
    await section.getByRole("button", { name: "Delete my account" }).click();
    await page.getByRole("button", { name: "Sign in", exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole("alert").filter({ hasText: "Your account was deleted." }).waitFor();
    release();
    await Promise.all(answered);
    expect(answered).toHaveLength(1);
    await page.unroute("**/api/me");
    await page.getByRole("alert").filter({ hasText: "Your account was deleted." }).waitFor();
    // Ann's DM stays, under "Deleted account".
    await a.page.getByRole("button", { name: "Close", exact: true }).click();
    await row(a.page, "Deleted account").waitFor({ timeout: 20_000 });
  });
});
