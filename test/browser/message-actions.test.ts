/**
 * A message's actions without a mouse: a ⋯ menu button (named, with aria-haspopup and
 * aria-expanded), a tap or a long press on a touch screen, Enter on the focused message; hovering
 * moves nothing; the list is one tab stop with arrow keys; the focus ring is not cut off.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { apiDm, apiSignup, sendAll } from "./seed";
import { act, messages, row, send, signUp } from "./steps";

const baseUrl = inject("baseUrl");

function boxes(page: Page) {
  return page.locator("li.msg").evaluateAll((els) => els.map((el) => { const r = el.getBoundingClientRect(); return [r.top, r.height]; }));
}

describe("message actions", () => {
  const me = uniqueName("mia");
  const peer = uniqueName("pat");
  const other = uniqueName("quinn");
  let a: Awaited<ReturnType<typeof person>>;
  let phone: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    a = await person(baseUrl, { permissions: ["clipboard-read", "clipboard-write"] });
    await signUp(a.page, me);
    const token = await apiSignup(baseUrl, peer);
    const dm = await apiDm(baseUrl, token, me);
    await sendAll(baseUrl, token, dm, ["first from pat", "second from pat", "third from pat"]);
    const otherToken = await apiSignup(baseUrl, other);
    await sendAll(baseUrl, otherToken, await apiDm(baseUrl, otherToken, me), ["first from quinn"]);
    await row(a.page, peer).click();
    await send(a.page, "mine to edit");
    await messages(a.page, "mine to edit").and(a.page.locator("[data-seq]")).waitFor();
  });
  afterAll(async () => {
    await a?.close();
    await phone?.close();
  });

  it("opens a menu from the ⋯ button; hovering a message moves nothing", async () => {
    const page = a.page;
    const before = await boxes(page);
    await messages(page, "second from pat").hover();
    expect(await boxes(page)).toEqual(before);
    const button = messages(page, "second from pat").getByRole("button", { name: `Actions for the message from ${peer}` });
    expect(await button.getAttribute("aria-haspopup")).toBe("menu");
    expect(await button.getAttribute("aria-expanded")).toBe("false");
    await button.click();
    const menu = page.getByRole("menu", { name: "Message actions" });
    await menu.waitFor();
    expect(await button.getAttribute("aria-expanded")).toBe("true");
    expect(await boxes(page)).toEqual(before); // the menu floats: the list did not move
    const items = await menu.getByRole("menuitem").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? e.textContent));
    expect(items).toEqual(expect.arrayContaining(["React with 👍", "Reply", "Copy text"]));
    expect(items).not.toContain("Edit"); // not mine
    // The first item has the focus; Escape closes and gives it back to the message.
    expect(await page.evaluate(() => document.activeElement?.getAttribute("role"))).toBe("menuitem");
    await page.keyboard.press("Escape");
    await expect.poll(() => menu.count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.querySelector(".body")?.textContent)).toBe("second from pat");
  });

  it("closes a message's menu on switching conversations", async () => {
    const page = a.page;
    await messages(page, "first from pat").locator("button.menu-btn").click();
    await page.getByRole("menu").waitFor();
    await row(page, other).click();
    await messages(page, "first from quinn").waitFor(); // the same seq as "first from pat"
    expect(await page.getByRole("menu").count()).toBe(0);
    await row(page, peer).click();
    await messages(page, "first from pat").waitFor();
    expect(await page.getByRole("menu").count()).toBe(0);
  });

  it("copies a message's text", async () => {
    await act(a.page, "third from pat", "Copy text");
    await expect.poll(() => a.page.evaluate(() => navigator.clipboard.readText())).toBe("third from pat");
  });

  it("is one tab stop: arrows move between messages, Enter opens the menu", async () => {
    const page = a.page;
    // One message is in the tab order (Tab from it reaches its own controls); no other message nor anything in one.
    expect(await page.locator("li.msg[tabindex='0']").count()).toBe(1);
    const stops = await page.locator("li.msg:not([tabindex='0'])").evaluateAll((els) =>
      els.flatMap((el) => [el, ...el.querySelectorAll<HTMLElement>("button, a[href], [tabindex]")]).filter((el) => el.tabIndex >= 0).length);
    expect(stops).toBe(0);
    await page.locator("li.msg[tabindex='0']").focus();
    const focused = () => page.evaluate(() => document.activeElement?.querySelector(".body")?.textContent ?? null);
    await page.keyboard.press("End");
    expect(await focused()).toBe("mine to edit");
    await page.keyboard.press("ArrowUp");
    expect(await focused()).toBe("third from pat");
    await page.keyboard.press("Home");
    expect(await focused()).toBe("first from pat");
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    const menu = page.getByRole("menu");
    await menu.waitFor();
    // The menu takes the focus once it is drawn: keys pressed before that go to the message.
    await expect.poll(() => page.evaluate(() => document.activeElement?.closest("[role='menu']") != null)).toBe(true);
    // My own message: edit and delete are offered; arrows move through the items.
    await page.keyboard.press("End");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Delete");
    await page.keyboard.press("ArrowUp");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Edit");
    await page.keyboard.press("Enter");
    await page.getByText("Editing your message").waitFor();
    await page.keyboard.press("Escape");
  });

  it("draws the focus ring of the menu button whole, not clipped", async () => {
    const page = a.page;
    const button = messages(page, "first from pat").locator("button.menu-btn");
    // By keyboard (so that :focus-visible applies): the message, then Tab into it.
    await messages(page, "first from pat").focus();
    await page.keyboard.press("Tab");
    await expect.poll(() => button.evaluate((el) => el === document.activeElement)).toBe(true);
    const [b, list] = await Promise.all([button.boundingBox(), page.getByRole("log").boundingBox()]);
    expect(b && list && b.x - 4 >= list.x && b.x + b.width + 4 <= list.x + list.width).toBe(true);
    expect(await button.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe("none");
  });

  it("opens the menu with a tap and with a long press on a touch screen", async () => {
    phone = await person(baseUrl, { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
    const page = phone.page;
    await page.goto("/");
    await page.getByRole("button", { name: "New here? Create an account" }).click();
    const name = uniqueName("tom");
    await page.getByLabel("Username").fill(name);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByLabel("Password").press("Enter");
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    const token = await apiSignup(baseUrl, uniqueName("sam"));
    const dm = await apiDm(baseUrl, token, name);
    await sendAll(baseUrl, token, dm, ["tap me", "hold me"]);
    await page.locator("button.conv").first().click();
    await messages(page, "hold me").waitFor();

    await messages(page, "tap me").locator(".bubble").tap();
    const menu = page.getByRole("menu");
    await menu.waitFor();
    expect(await menu.getByRole("menuitem", { name: "Reply" }).isVisible()).toBe(true);
    await page.keyboard.press("Escape");
    await expect.poll(() => menu.count()).toBe(0);

    // A finger resting on the message (no release): the menu opens by itself.
    await messages(page, "hold me").locator(".bubble").dispatchEvent("pointerdown", { pointerType: "touch", isPrimary: true, bubbles: true });
    await menu.waitFor();
    await menu.getByRole("menuitem", { name: "Reply" }).tap();
    await page.getByText("Replying to").waitFor();
  });
});
