/**
 * The installable app: the manifest makes it installable, the service worker controls the page and
 * keeps the shell, so that with the network off a reload still shows the conversations and messages
 * the app last had (from IndexedDB) and the outbox still takes messages; a new version waits until
 * the person chooses "Reload".
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { unnamedControls } from "./a11y";
import { apiDm, apiSignup, sendAll } from "./seed";
import { keptBodies, messages, row, send, signUp, tickOf } from "./steps";

const baseUrl = inject("baseUrl");

/** The active service worker's script URL once one controls the page, else null. */
const controller = (page: Page) => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null);

/**
 * Writes web/dist/sw.js and waits until the dev server serves it: `wrangler dev` restarts when its
 * assets change (the conversations it keeps on disk stay), and the next test must find it up again.
 */
async function served(file: string, text: string): Promise<void> {
  writeFileSync(file, text);
  await expect.poll(async () => {
    try {
      return await (await fetch(`${baseUrl}/sw.js`)).text();
    } catch {
      return null; // restarting
    }
  }, { timeout: 60_000, interval: 500 }).toBe(text);
}

describe("installable app", () => {
  const ann = uniqueName("ann");
  const ben = uniqueName("ben");
  let a: Awaited<ReturnType<typeof person>>;
  let benToken = "";
  let conv = "";
  const violations: string[] = [];

  beforeAll(async () => {
    a = await person(baseUrl);
    a.page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
    await signUp(a.page, ann);
    benToken = await apiSignup(baseUrl, ben);
    conv = await apiDm(baseUrl, benToken, ann);
    await sendAll(baseUrl, benToken, conv, ["kept for the train", "and this one too"], "k");
  });
  afterAll(async () => { await a?.close(); });

  it("is installable: the manifest names it, with icons for any purpose and maskable ones", async () => {
    const cdp = await a.context.newCDPSession(a.page);
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    await cdp.detach();
    expect(installabilityErrors).toEqual([]);
    const manifest = await (await fetch(`${baseUrl}/manifest.webmanifest`)).json();
    expect(manifest).toMatchObject({ name: "Edge chat", short_name: "Edge chat", start_url: "/", display: "standalone" });
    const purposes = manifest.icons.map((i: { purpose: string; type: string }) => `${i.purpose} ${i.type}`);
    expect(purposes).toEqual(expect.arrayContaining(["any image/png", "maskable image/png", "any image/svg+xml", "maskable image/svg+xml"]));
    for (const i of manifest.icons) expect((await fetch(`${baseUrl}${i.src}`)).status).toBe(200);
  });

  it("registers its service worker, which controls the page without a reload", async () => {
    await expect.poll(() => controller(a.page), { timeout: 20_000 }).toBe(`${baseUrl}/sw.js`);
    // The first worker is not offered as an update.
    expect(await a.page.getByRole("button", { name: "Reload" }).count()).toBe(0);
  });

  it("with the network off, a reload shows the last conversations and messages, and the outbox still takes messages", async () => {
    await row(a.page, ben).click();
    await messages(a.page, "and this one too").waitFor();
    await expect.poll(() => keptBodies(a.page, ann, conv), { timeout: 20_000 }).toEqual(["kept for the train", "and this one too"]);

    await a.context.setOffline(true);
    await a.page.reload();
    await a.page.getByRole("status").filter({ hasText: "You are offline" }).waitFor();
    await row(a.page, ben).waitFor();
    await messages(a.page, "kept for the train").waitFor();
    expect(await messages(a.page, "and this one too").count()).toBe(1);

    await send(a.page, "written on the train");
    expect(await tickOf(a.page, "written on the train").getAttribute("data-tick")).toBe("sending");
    await a.context.setOffline(false);
    await expect.poll(() => tickOf(a.page, "written on the train").getAttribute("data-tick"), { timeout: 30_000 }).not.toBe("sending");
    // Once, on the server: what Ben's side would load.
    await sendAll(baseUrl, benToken, conv, ["back online"], "b");
    await messages(a.page, "back online").waitFor({ timeout: 20_000 });
    expect(await messages(a.page, "written on the train").count()).toBe(1);
  });

  it("keeps the Content-Security-Policy strict and never breaks it", async () => {
    const res = await fetch(`${baseUrl}/`);
    expect(res.headers.get("content-security-policy")).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(violations).toEqual([]);
  });

  it("offers a new version and reloads only when the person chooses to", async () => {
    // A new build: the worker's bytes change (the dev server serves web/dist as it is on disk).
    const file = join(import.meta.dirname, "..", "..", "web", "dist", "sw.js");
    const before = readFileSync(file, "utf8");
    try {
      await served(file, `${before}\n// a new build\n`);
      await a.page.evaluate(() => { (window as { mark?: number }).mark = 1; });
      await a.page.getByRole("textbox", { name: "Message" }).fill("half a thought");
      await a.page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
      const reload = a.page.getByRole("button", { name: "Reload" });
      await reload.waitFor({ timeout: 30_000 });
      expect(await a.page.getByRole("status").filter({ hasText: "A new version is ready" }).count()).toBe(1);
      expect(await unnamedControls(a.page)).toEqual([]);
      // Still the same page, with what was being typed.
      expect(await a.page.evaluate(() => (window as { mark?: number }).mark)).toBe(1);
      expect(await a.page.getByRole("textbox", { name: "Message" }).inputValue()).toBe("half a thought");
      const waitingUrl = await a.page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.waiting?.scriptURL ?? null));
      expect(waitingUrl).toBe(`${baseUrl}/sw.js`);

      await Promise.all([a.page.waitForEvent("load"), reload.click()]);
      expect(await a.page.evaluate(() => (window as { mark?: number }).mark)).toBeUndefined();
      await expect.poll(() => a.page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => !r?.waiting && !!r?.active))).toBe(true);
      expect(await a.page.getByRole("button", { name: "Reload" }).count()).toBe(0);
      // The draft was kept as always (web/src/models/drafts.ts): the reload lost nothing.
      await expect.poll(() => a.page.getByRole("textbox", { name: "Message" }).inputValue()).toBe("half a thought");
    } finally {
      await served(file, before);
    }
  });
});
