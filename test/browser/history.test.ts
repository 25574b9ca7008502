/** A long conversation: the newest first, older ones on scrolling up, the scroll kept in place; search. */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { apiDm, apiSignup, sendAll } from "./seed";
import { keptBodies, row, serverUnread, signUp } from "./steps";

const baseUrl = inject("baseUrl");
const COUNT = 230;

describe("history", () => {
  const reader = uniqueName("ruth");
  const writer = uniqueName("walt");
  let r: Awaited<ReturnType<typeof person>>;
  let conv: string;

  beforeAll(async () => {
    r = await person(baseUrl);
    await signUp(r.page, reader);
    const token = await apiSignup(baseUrl, writer);
    conv = await apiDm(baseUrl, token, reader);
    await sendAll(baseUrl, token, conv, Array.from({ length: COUNT }, (_, i) => `line ${i + 1}`));
  });
  afterAll(async () => { await r?.close(); });

  it("loads older messages on scrolling up, each once and in order, keeping the view still", async () => {
    const page = r.page;
    await expect.poll(() => row(page, writer).locator(".badge").textContent(), { timeout: 20_000 }).toBe("99+");
    await row(page, writer).click();
    // All unread: it opens at the first unread message; read them by going to the latest.
    await page.locator("li.unread-divider", { hasText: "New messages" }).waitFor();
    await page.getByRole("button", { name: /^Jump to the latest message/ }).click();
    await expect.poll(() => row(page, writer).locator(".badge").count()).toBe(0);
    // Read, a fresh load opens at the bottom with only the newest page. (Once the app has kept
    // the conversation as it is now: it writes what it keeps at most once a second, and a reload
    // before that resumes from an older copy, which rightly replays everything after it.)
    // And once the server holds the read mark (the badge above clears as the frame leaves).
    await expect.poll(async () => (await keptBodies(page, reader, conv)).at(-1), { timeout: 20_000 }).toBe(`line ${COUNT}`);
    await expect.poll(() => serverUnread(page, conv), { timeout: 20_000 }).toBe(0);
    await page.reload();
    const bodies = () => page.locator("li.msg .body").allTextContents();
    await expect.poll(async () => (await bodies()).at(-1)).toBe(`line ${COUNT}`);
    expect((await bodies()).length).toBeLessThan(COUNT);

    const list = page.getByRole("log");
    for (let i = 0; i < 20 && !(await page.getByText("This is the beginning of the conversation.").isVisible()); i++) {
      const before = await bodies();
      await list.evaluate((el) => { el.scrollTop = 0; });
      await expect.poll(async () => (await bodies()).length + ((await page.getByText("This is the beginning").count()) ? 1000 : 0)).toBeGreaterThan(before.length);
      // The message that was at the top is still on screen: the list did not jump to the new top.
      const was = page.locator("li.msg").filter({ has: page.locator(".body", { hasText: new RegExp(`^${before[0]}$`) }) });
      // Polled: the older page and the scroll position that keeps it still land in separate
      // frames, and one read between them failed once in CI. A jump to the new top stays a jump.
      await expect.poll(async () => {
        const [box, view] = [await was.boundingBox(), await list.boundingBox()];
        return !!(box && view && box.y + box.height > view.y && box.y < view.y + view.height);
      }).toBe(true);
    }
    const all = await bodies();
    expect(all).toEqual(Array.from({ length: COUNT }, (_, i) => `line ${i + 1}`));
  });

  it("finds a message with search", async () => {
    const page = r.page;
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByLabel("Search this conversation").fill("line 117");
    await page.getByLabel("Search this conversation").press("Enter");
    await expect.poll(() => page.locator(".results .result-body").allTextContents()).toContain("line 117");
  });
});
