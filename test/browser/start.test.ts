/**
 * Opening the app again: what was kept is on screen before the server has said who is signed in,
 * and no socket opens until it has. A session that ended while the app was closed, or a browser now
 * signed in as someone else, ends on the right screen with the first person's kept data gone.
 */
import type { Page, WebSocket } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { PASSWORD, keptBodies, keptTitles, keptUser, messages, row, send, signUp, startDm } from "./steps";

const baseUrl = inject("baseUrl");

/** Every socket the page opens from now on. */
function socketsOf(page: Page): WebSocket[] {
  const opened: WebSocket[] = [];
  page.on("websocket", (ws) => opened.push(ws));
  return opened;
}

/** Holds the page's `/api/me` requests until `release`; later ones pass at once. */
function holdAnswer(page: Page): { release(): Promise<void> } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const routed = page.route("**/api/me", async (route) => {
    await released;
    await route.continue();
  });
  return {
    async release() {
      await routed;
      release();
    },
  };
}

describe("starting again", () => {
  const amy = uniqueName("amy");
  const bo = uniqueName("bo");
  // Requests must reach page.route, so no service worker answers for the page.
  let a: Awaited<ReturnType<typeof person>>;
  let b: Awaited<ReturnType<typeof person>>;
  let conv = "";

  beforeAll(async () => {
    [a, b] = await Promise.all([person(baseUrl, { serviceWorkers: "block" }), person(baseUrl, { serviceWorkers: "block" })]);
    await signUp(a.page, amy);
    await signUp(b.page, bo);
    await startDm(a.page, bo);
    await send(a.page, "kept for the next start");
    conv = decodeURIComponent(new URL(a.page.url()).hash.replace("#/c/", ""));
    await row(b.page, amy).click();
    await messages(b.page, "kept for the next start").waitFor();
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("shows what was kept before the server answers, and opens no socket until it has", async () => {
    await expect.poll(() => keptBodies(a.page, amy, conv)).toContain("kept for the next start");
    const answer = holdAnswer(a.page);
    const opened = socketsOf(a.page);
    await a.page.reload();
    await messages(a.page, "kept for the next start").waitFor();
    await row(a.page, bo).waitFor();
    expect(opened).toEqual([]);
    await answer.release();
    await expect.poll(() => opened.length).toBeGreaterThanOrEqual(2); // the inbox and the DM
    await send(b.page, "after the answer");
    await messages(a.page, "after the answer").waitFor();
  });

  it("ends at the sign-in screen, saying why, when the session went meanwhile; forgets what was kept, keeps the link", async () => {
    const link = a.page.url();
    await a.context.clearCookies();
    const opened = socketsOf(a.page);
    await a.page.reload();
    await a.page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
    // The screen showed Amy's conversations a moment ago: it says why they went.
    await a.page.getByRole("alert").filter({ hasText: "Your session has ended" }).waitFor();
    await expect.poll(() => keptUser(a.page)).toBeUndefined();
    expect(await keptTitles(a.page, amy)).toEqual([]);
    expect(opened).toEqual([]);
    expect(a.page.url()).toBe(link);
    // Signing in again opens the conversation of the link.
    await a.page.getByLabel("Username").fill(amy);
    await a.page.getByLabel("Password").fill(PASSWORD);
    await a.page.getByRole("button", { name: "Sign in", exact: true }).click();
    await messages(a.page, "after the answer").waitFor();
  });

  it("shows the person the browser is now signed in as, and forgets the one kept", async () => {
    await expect.poll(() => keptUser(a.page)).toBe(amy);
    await expect.poll(() => keptTitles(a.page, amy)).not.toEqual([]);
    // Bo's session in this browser's cookies, as when another tab signed in as Bo.
    await a.context.clearCookies();
    await a.context.addCookies(await b.context.cookies());
    // Until the server says who it is, the screen is Amy's as kept: nothing asked with Bo's cookie
    // (his list, his sockets) shows under her name.
    const answer = holdAnswer(a.page);
    const opened = socketsOf(a.page);
    const asked: string[] = [];
    a.page.on("request", (r) => { if (new URL(r.url()).pathname.startsWith("/api/")) asked.push(new URL(r.url()).pathname); });
    await a.page.reload();
    // Amy's kept list is on screen (a list is asked for, if at all, as it is put there).
    await row(a.page, bo).waitFor();
    await a.page.getByText(`@${amy}`, { exact: true }).waitFor();
    expect(asked).toEqual(["/api/me"]);
    expect(opened).toEqual([]);
    await answer.release();
    await a.page.getByText(`@${bo}`, { exact: true }).waitFor();
    await expect.poll(() => keptTitles(a.page, amy)).toEqual([]);
    await expect.poll(() => keptUser(a.page)).toBe(bo);
    expect(await a.page.getByText(`@${amy}`, { exact: true }).count()).toBe(0);
  });
});
