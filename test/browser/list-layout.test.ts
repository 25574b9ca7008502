/**
 * The side bar and header on a phone (390 px) and a desktop (the 320 px bar): long and multi-line
 * previews are cut to one line with "…", the time and the unread badge stay inside the row, the
 * page never scrolls sideways; a long room title stays readable on a phone; emoji have a colour font.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { apiDm, apiRoom, apiSignup, sendAll } from "./seed";
import { row, signUp } from "./steps";

const baseUrl = inject("baseUrl");
const LONG = `A very long first line that goes on and on about the release plan and the design review ${"and more words ".repeat(20)}\nsecond line\nthird line`;
const TITLE = "Quarterly planning for the infrastructure and platform reliability working group";

/** Everything that must stay inside each row of the side bar, and whether the page scrolls sideways. */
function overflow(page: Page) {
  return page.evaluate(() => {
    const nav = document.querySelector("nav.sidebar")?.getBoundingClientRect();
    const out: string[] = [];
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth) out.push(`page ${document.documentElement.scrollWidth}px wide`);
    for (const el of document.querySelectorAll<HTMLElement>("button.conv .badge, button.conv time, .side-head button, button.conv")) {
      const r = el.getBoundingClientRect();
      if (nav && (r.right > nav.right + 0.5 || r.left < nav.left - 0.5)) out.push(`${el.className || el.tagName} ${el.textContent} at ${r.left}-${r.right}, bar ${nav.left}-${nav.right}`);
    }
    for (const el of document.querySelectorAll<HTMLElement>(".conv-last")) {
      const style = getComputedStyle(el);
      if (el.getBoundingClientRect().height > parseFloat(style.lineHeight) * 1.5) out.push(`preview on more than one line: ${el.textContent?.slice(0, 20)}`);
      if (style.textOverflow !== "ellipsis") out.push("preview not cut with an ellipsis");
    }
    return out;
  });
}

describe("the conversation list and header fit the screen", () => {
  const reader = uniqueName("rita");
  const writer = uniqueName("wolfgangwithaverylongname");
  let r: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    r = await person(baseUrl);
    await signUp(r.page, reader);
    const token = await apiSignup(baseUrl, writer);
    const dm = await apiDm(baseUrl, token, reader);
    // Over 99 unread, the last one long and on several lines.
    await sendAll(baseUrl, token, dm, [...Array.from({ length: 120 }, (_, i) => `note ${i}`), LONG]);
    const room = await apiRoom(baseUrl, token, TITLE, [reader]);
    await sendAll(baseUrl, token, room, [LONG], "room");
  });
  afterAll(async () => { await r?.close(); });

  it("keeps the badge and the time inside the 320 px side bar on a desktop", async () => {
    const page = r.page;
    await expect.poll(() => row(page, writer).locator(".badge").textContent(), { timeout: 20_000 }).toBe("99+");
    await expect.poll(() => row(page, TITLE).locator(".badge").textContent(), { timeout: 20_000 }).toBe("1");
    expect(await overflow(page)).toEqual([]);
    expect(await row(page, writer).locator(".badge").isVisible()).toBe(true);
  });

  it("does not scroll sideways on a 390 px phone", async () => {
    const page = r.page;
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => overflow(page)).toEqual([]);
    for (const title of [writer, TITLE]) {
      const box = await row(page, title).locator(".badge").boundingBox();
      expect(box && box.x + box.width <= 390).toBe(true);
    }
  });

  it("shows a long room title on two lines on a phone, not cut to a few letters", async () => {
    const page = r.page;
    await row(page, TITLE).click();
    const h2 = page.getByRole("heading", { level: 2 });
    await expect.poll(() => h2.textContent()).toBe(`# ${TITLE}`);
    const lines = await h2.evaluate((el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)));
    expect(lines).toBeGreaterThanOrEqual(2);
    // The header's buttons (mute, search, members...) go below it rather than squeeze it.
    const width = await h2.evaluate((el) => el.getBoundingClientRect().width);
    expect(width).toBeGreaterThan((page.viewportSize()?.width ?? 0) / 2);
    expect(await h2.getAttribute("title")).toBe(`# ${TITLE}`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("names a colour emoji font", async () => {
    const family = await r.page.evaluate(() => getComputedStyle(document.documentElement).fontFamily);
    expect(family).toMatch(/Noto Color Emoji/);
    expect(family).toMatch(/Apple Color Emoji/);
  });
});
