/**
 * The "Reconnecting" bar: it shows while the sockets cannot get back, also when a connection opens
 * but the server never answers on it, and stays through every attempt (it does not blink with each
 * one); it goes once the sockets are back and answered, and what was typed meanwhile is sent.
 */
import type { WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { apiSignup } from "./seed";
import { messages, send, signUp, startDm, tickOf } from "./steps";

const baseUrl = inject("baseUrl");

declare global {
  interface Window {
    /** "shown" and "gone", each time the bar appears or goes (see watchBar). */
    barLog?: string[];
  }
}

describe("reconnecting", () => {
  const ann = uniqueName("ann");
  const bo = uniqueName("bo");
  let a: Awaited<ReturnType<typeof person>>;
  /**
   * How the page's sockets fare: "up" reaches the server; "silent" is a connection that opens and
   * never answers (an overloaded server); "refused" closes at once (a server that is down).
   */
  let mode: "up" | "silent" | "refused" = "up";
  const refused = { chat: 0, inbox: 0 };
  const held: WebSocketRoute[] = [];

  beforeAll(async () => {
    a = await person(baseUrl);
    await a.page.routeWebSocket(/\/(chat\/|inbox)/, (ws) => {
      if (mode === "refused") {
        refused[ws.url().includes("/inbox") ? "inbox" : "chat"]++;
        void ws.close({ code: 1011, reason: "down" });
        return;
      }
      if (mode === "up") ws.connectToServer();
      held.push(ws);
    });
    await apiSignup(baseUrl, bo);
    await signUp(a.page, ann);
    await startDm(a.page, bo);
    await send(a.page, "before");
    await tickOf(a.page, "before").and(a.page.locator(':not([data-tick="sending"])')).waitFor();
  });
  afterAll(async () => { await a?.close(); });

  it("shows the bar once while the server is silent, then down, through every attempt, and goes once all is back", async () => {
    const page = a.page;
    // Every change of the bar, as it happens in the page.
    await page.evaluate(() => {
      window.barLog = [];
      let shown = false;
      new MutationObserver(() => {
        const now = document.querySelector(".banner.reconnecting") !== null;
        if (now !== shown) window.barLog?.push(now ? "shown" : "gone");
        shown = now;
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    // The server stops answering: the connections are cut, and new ones open but hear nothing.
    mode = "silent";
    for (const ws of held.splice(0)) void ws.close({ code: 1011, reason: "down" });
    // Both sockets are open again, to nothing: still not back.
    await expect.poll(() => held.length, { timeout: 20_000 }).toBe(2);
    await page.getByText("Reconnecting…").waitFor({ timeout: 20_000 });
    // Then it refuses them: three refused attempts of each socket, the bar on the whole time.
    mode = "refused";
    for (const ws of held.splice(0)) void ws.close({ code: 1011, reason: "down" });
    await expect.poll(() => Math.min(refused.chat, refused.inbox), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    await page.getByText("Reconnecting…").waitFor();
    console.log("DEBUG", JSON.stringify(await page.evaluate(() => window.barLog)), JSON.stringify(refused), held.length);
    expect(await page.evaluate(() => window.barLog)).toEqual(["shown"]);
    await send(page, "while down");

    mode = "up";
    await expect.poll(() => page.evaluate(() => window.barLog?.at(-1)), { timeout: 30_000 }).toBe("gone");
    expect(await page.evaluate(() => window.barLog)).toEqual(["shown", "gone"]);
    await expect.poll(() => tickOf(page, "while down").getAttribute("data-tick"), { timeout: 20_000 }).toMatch(/^(sent|delivered|read)$/);
    expect(await messages(page, "while down").count()).toBe(1);
  });
});
