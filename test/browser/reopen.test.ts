/**
 * Coming back to a conversation (from a notification's link, say) opens it where the server says
 * I stopped reading, not where the list the app kept says: that list is older than whatever came
 * or was read while the app was closed. Unless the person already scrolled it: then it stays.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { apiDm, apiSignup, sendAll } from "./seed";
import { inView, keptUnread, row, serverUnread, signUp } from "./steps";

const baseUrl = inject("baseUrl");

/**
 * Holds what the server says on `page`'s inbox sockets for a while: the list the app kept is then
 * all it has while it opens the conversation (as on a slow network), whatever the order of its
 * reads at start.
 */
async function slowInbox(page: Page): Promise<void> {
  await page.routeWebSocket(/\/inbox/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => void setTimeout(() => ws.send(m), 2000));
  });
}

/** Holds what the server says on `page`'s conversation sockets until `release`. */
async function holdConversations(page: Page): Promise<{ release(): void }> {
  let held: (() => void)[] | null = [];
  await page.routeWebSocket(/\/chat\//, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      if (held) held.push(() => ws.send(m));
      else ws.send(m);
    });
  });
  return {
    release() {
      const queued = held ?? [];
      held = null;
      for (const send of queued) send();
    },
  };
}

/** Leaves the app for a plain file of the same origin: the app is closed, and its IndexedDB is at hand. */
async function closeApp(page: Page): Promise<void> {
  await page.goto("/icons/icon.svg");
}

describe("reopening a conversation", () => {
  const reader = uniqueName("rita");
  const writer = uniqueName("wes");
  let r: Awaited<ReturnType<typeof person>>;
  let token = "";
  let conv = "";

  beforeAll(async () => {
    r = await person(baseUrl);
    await signUp(r.page, reader);
    token = await apiSignup(baseUrl, writer);
    conv = await apiDm(baseUrl, token, reader);
    await sendAll(baseUrl, token, conv, Array.from({ length: 60 }, (_, i) => `early ${i + 1}`), "a");
  });
  afterAll(async () => { await r?.close(); });

  /** Reads the whole conversation, and waits until the server and the kept list both have it read. */
  async function readAll(page: Page): Promise<void> {
    await page.getByRole("button", { name: /^Jump to the latest message/ }).click();
    await expect.poll(() => serverUnread(page, conv), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => keptUnread(page, reader, conv), { timeout: 20_000 }).toBe(0);
  }

  it("opens at the first message that came while the app was closed, and marks nothing read", async () => {
    const page = r.page;
    await row(page, writer).click();
    await readAll(page);
    await closeApp(page);
    await sendAll(baseUrl, token, conv, Array.from({ length: 40 }, (_, i) => `fresh #${i + 1}!`), "b");
    // The kept list still says all is read; the server says 40 are not.
    expect(await keptUnread(page, reader, conv)).toBe(0);
    await slowInbox(page);
    await page.goto(`/#/c/${conv}`);
    const divider = page.locator("li.unread-divider", { hasText: "New messages" });
    await divider.waitFor();
    expect(await divider.evaluate((el) => el.nextElementSibling?.querySelector(".body")?.textContent)).toBe("fresh #1!");
    await expect.poll(() => inView(page, "fresh #1!")).toBe(true);
    expect(await inView(page, "fresh #40!")).toBe(false);
    await expect.poll(() => row(page, writer).locator(".badge").textContent()).toBe("40");
    expect(await serverUnread(page, conv)).toBe(40);
  });

  it("opens at the end when what the kept list counts unread was read meanwhile", async () => {
    const page = r.page;
    await readAll(page);
    await closeApp(page);
    // As if the list was kept before the read (it is written at most once a second): 40 unread.
    await page.evaluate(([user, id]) => new Promise<void>((resolve, reject) => {
      const open = indexedDB.open("edge-chat-kept");
      open.onsuccess = () => {
        const store = open.result.transaction("kept", "readwrite").objectStore("kept");
        const get = store.get([user, "l"]);
        get.onsuccess = () => {
          const list = get.result as { id: string; lastSeq: number; readSeq: number; unread: number }[];
          const entry = list.find((s) => s.id === id);
          if (!entry) return reject(new Error("not in the kept list"));
          Object.assign(entry, { readSeq: entry.lastSeq - 40, unread: 40 });
          store.put(list, [user, "l"]).onsuccess = () => resolve();
        };
      };
    }), [reader, conv] as const);
    expect(await keptUnread(page, reader, conv)).toBe(40);
    await page.goto(`/#/c/${conv}`);
    await page.locator('[role="log"][aria-busy="false"]').waitFor();
    await expect.poll(() => inView(page, "fresh #40!")).toBe(true);
    expect(await page.locator("li.unread-divider").count()).toBe(0);
    await expect.poll(() => row(page, writer).locator(".badge").count()).toBe(0);
  });

  it("leaves the list where the person scrolled it before the server's answer came", async () => {
    const page = r.page;
    await expect.poll(() => serverUnread(page, conv), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => keptUnread(page, reader, conv), { timeout: 20_000 }).toBe(0);
    await closeApp(page);
    await sendAll(baseUrl, token, conv, Array.from({ length: 20 }, (_, i) => `later #${i + 1}!`), "c");
    const held = await holdConversations(page);
    await page.goto(`/#/c/${conv}`);
    // The kept messages, at the end; the person scrolls up among them before the welcome comes.
    await expect.poll(() => inView(page, "fresh #40!")).toBe(true);
    await page.getByRole("log").hover();
    await page.mouse.wheel(0, -500);
    await expect.poll(() => inView(page, "fresh #40!")).toBe(false);
    const reading = await page.getByRole("log").evaluate((log) => {
      const top = log.getBoundingClientRect().top;
      const row = [...log.querySelectorAll("li.msg")].find((li) => li.getBoundingClientRect().top >= top);
      return row?.querySelector(".body")?.textContent ?? "";
    });
    expect(reading).toMatch(/^fresh #\d+!$/);
    held.release();
    // The welcome says 20 are unread: the divider comes, the list stays where the person put it.
    await page.locator("li.unread-divider").waitFor();
    await page.locator('[role="log"][aria-busy="false"]').waitFor();
    expect(await inView(page, reading)).toBe(true);
    expect(await inView(page, "later #1!")).toBe(false);
    await expect.poll(() => row(page, writer).locator(".badge").textContent()).toBe("20");
  });
});
