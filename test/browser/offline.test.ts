/**
 * Messages typed without a network: kept (in IndexedDB) and delivered exactly once when the network
 * returns, also when the page was closed and opened again in between.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { messages, row, send, signUp, startDm, tickOf } from "./steps";

const baseUrl = inject("baseUrl");

describe("offline outbox", () => {
  const alice = uniqueName("carol");
  const bob = uniqueName("dave");
  let a: Awaited<ReturnType<typeof person>>;
  let b: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    a = await person(baseUrl);
    b = await person(baseUrl);
    await signUp(a.page, alice);
    await signUp(b.page, bob);
    await startDm(a.page, bob);
    await send(a.page, "first");
    await row(b.page, alice).click();
    await messages(b.page, "first").waitFor();
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("sends a message typed offline once the network is back", async () => {
    await a.context.setOffline(true);
    await a.page.getByRole("status").filter({ hasText: "offline" }).waitFor();
    await send(a.page, "typed offline");
    expect(await tickOf(a.page, "typed offline").getAttribute("data-tick")).toBe("sending");
    await a.context.setOffline(false);
    await expect.poll(() => messages(b.page, "typed offline").count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => tickOf(a.page, "typed offline").getAttribute("data-tick")).toBe("read");
    expect(await messages(a.page, "typed offline").count()).toBe(1);
  });

  it("keeps it across a reload and still sends it once", async () => {
    await a.context.setOffline(true);
    await a.page.getByRole("status").filter({ hasText: "offline" }).waitFor();
    await send(a.page, "survives a reload");
    expect(await tickOf(a.page, "survives a reload").getAttribute("data-tick")).toBe("sending");
    // Leave the page while offline (a reload cannot load the page without a network), come back online.
    const url = a.page.url();
    await a.page.close();
    await a.context.setOffline(false);
    const again = await a.context.newPage();
    await again.goto(url);
    await expect.poll(() => messages(b.page, "survives a reload").count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => tickOf(again, "survives a reload").getAttribute("data-tick")).toBe("read");
    // The server holds it once: a fresh load of Bob's page shows one copy (at once what the app
    // kept, then what its socket replays after that). Counted once the replay is in (the log is
    // busy until then), so a copy the replay added would be counted too.
    await b.page.reload();
    await b.page.locator('[role="log"][aria-busy="false"]').waitFor({ timeout: 30_000 });
    expect(await messages(b.page, "typed offline").count()).toBe(1);
    expect(await messages(b.page, "survives a reload").count()).toBe(1);
    expect(await messages(again, "survives a reload").count()).toBe(1);
  });
});
