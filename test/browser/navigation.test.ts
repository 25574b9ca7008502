/**
 * Finding one's place in a long conversation: opened at the first unread message under a "New
 * messages" divider; "jump to latest" with a count while scrolled up; a search result or a quoted
 * reply older than what is loaded loads back to it, scrolls to it and highlights it; results
 * show display names.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { apiDm, apiSignup, sendAll } from "./seed";
import { inView, messages, row, signUp } from "./steps";

const baseUrl = inject("baseUrl");

describe("navigating a long conversation", () => {
  const reader = uniqueName("nora");
  const writer = uniqueName("walt");
  let r: Awaited<ReturnType<typeof person>>;
  let token = "";
  let conv = "";
  let pelican = 0;

  beforeAll(async () => {
    r = await person(baseUrl);
    await signUp(r.page, reader);
    token = await apiSignup(baseUrl, writer, "Walter White");
    conv = await apiDm(baseUrl, token, reader);
    const first = await sendAll(baseUrl, token, conv, ["an ancient pelican appears", ...Array.from({ length: 150 }, (_, i) => `old ${i + 1}`)], "a");
    pelican = first[0] ?? 0;
  });
  afterAll(async () => { await r?.close(); });

  it("opens at the first unread message, under a divider, and marks read only at the end", async () => {
    const page = r.page;
    // Read everything once, then leave the conversation.
    await row(page, "Walter White").click();
    await page.getByRole("button", { name: /^Jump to the latest message/ }).click();
    await expect.poll(() => row(page, "Walter White").locator(".badge").count(), { timeout: 20_000 }).toBe(0);
    await page.evaluate(() => history.back());
    await page.getByText("Pick a conversation, or start one.").waitFor();
    await sendAll(baseUrl, token, conv, Array.from({ length: 40 }, (_, i) => `fresh #${i + 1}!`), "b");
    await expect.poll(() => row(page, "Walter White").locator(".badge").textContent(), { timeout: 20_000 }).toBe("40");

    await row(page, "Walter White").click();
    const divider = page.locator("li.unread-divider", { hasText: "New messages" });
    await divider.waitFor();
    // The divider sits right before the first unread message, which is on screen; the last is not.
    expect(await divider.evaluate((el) => el.nextElementSibling?.querySelector(".body")?.textContent)).toBe("fresh #1!");
    await expect.poll(() => inView(page, "fresh #1!")).toBe(true);
    expect(await inView(page, "fresh #40!")).toBe(false);
    // Only the list moved: the page itself never scrolls (its header stays on screen).
    expect(await page.evaluate(() => document.scrollingElement?.scrollTop)).toBe(0);
    expect(await row(page, "Walter White").locator(".badge").textContent()).toBe("40");

    // Scrolled on past the divider, a button leads back to the first unread (and focuses it).
    const back = page.getByRole("button", { name: "First unread" });
    expect(await back.count()).toBe(0);
    await page.getByRole("log").evaluate((el) => { el.scrollTop += el.clientHeight; });
    await back.waitFor();
    await back.click();
    await expect.poll(() => inView(page, "fresh #1!")).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.querySelector(".body")?.textContent)).toBe("fresh #1!");
    await expect.poll(() => back.count()).toBe(0);

    const jump = page.getByRole("button", { name: "Jump to the latest message, 40 unread" });
    await jump.click();
    await expect.poll(() => inView(page, "fresh #40!")).toBe(true);
    await expect.poll(() => row(page, "Walter White").locator(".badge").count()).toBe(0);
    await expect.poll(() => jump.count()).toBe(0);
  });

  it("offers to jump to the latest, with a count, as messages arrive while scrolled up", async () => {
    const page = r.page;
    await page.getByRole("log").evaluate((el) => { el.scrollTop = 0; });
    // The app learns it is scrolled up from the scroll event, a frame later: messages that came
    // before it would be read at the bottom (and counted as read), so the sends wait for it.
    await page.getByRole("button", { name: "Jump to the latest message", exact: true }).waitFor();
    await sendAll(baseUrl, token, conv, ["arrived 1", "arrived 2"], "c");
    const jump = page.getByRole("button", { name: "Jump to the latest message, 2 unread" });
    await jump.waitFor();
    expect(await jump.locator(".badge").textContent()).toBe("2");
    await jump.click();
    await expect.poll(() => inView(page, "arrived 2")).toBe(true);
  });

  it("jumps to a search result older than what is loaded, highlighted, with the display name", async () => {
    const page = r.page;
    await page.reload();
    await messages(page, "arrived 2").waitFor();
    expect(await messages(page, "an ancient pelican appears").count()).toBe(0); // not loaded
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByLabel("Search this conversation").fill("pelican");
    await page.getByLabel("Search this conversation").press("Enter");
    const result = page.locator(".results .result");
    await result.waitFor();
    expect(await result.locator(".muted").textContent()).toMatch(/^Walter White · /);
    await result.click();
    const target = messages(page, "an ancient pelican appears");
    await expect.poll(() => target.count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => target.getAttribute("class")).toContain("highlight");
    await expect.poll(() => inView(page, "an ancient pelican appears")).toBe(true);
    expect(await page.evaluate(() => document.scrollingElement?.scrollTop)).toBe(0);
    // The keyboard is there too.
    expect(await page.evaluate(() => document.activeElement?.querySelector(".body")?.textContent)).toBe("an ancient pelican appears");
  });

  it("says a search needs three characters, in words, without asking the server", async () => {
    const page = r.page;
    const box = page.getByLabel("Search this conversation");
    if (!(await box.isVisible())) await page.locator("#toggle-search").click();
    await box.fill("pe");
    await box.press("Enter");
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Type at least 3 characters to search.");
    await page.keyboard.press("Escape");
  });

  it("jumps to the original of a quoted reply, loading it when needed", async () => {
    const page = r.page;
    await sendAll(baseUrl, token, conv, [{ body: "about that bird", replyTo: pelican }], "d");
    await page.reload();
    await messages(page, "about that bird").waitFor();
    expect(await messages(page, "an ancient pelican appears").count()).toBe(0);
    await messages(page, "about that bird").getByRole("button", { name: "Go to the quoted message" }).click();
    const target = messages(page, "an ancient pelican appears");
    await expect.poll(() => target.count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => target.getAttribute("class")).toContain("highlight");
    await expect.poll(() => inView(page, "an ancient pelican appears")).toBe(true);
  });
});
