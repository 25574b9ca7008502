/**
 * The smaller tools, each with what a screen reader is told (the accessibility tree): filter and
 * pin in the side bar, "Seen by" in a room, the full date on a time, the composer's emoji picker,
 * invite links, and a name for every control while menus and pickers are open.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { unnamedControls } from "./a11y";
import { person, uniqueName } from "./browser";
import { apiDm, apiRoom, apiSignup, sendAll } from "./seed";
import { messages, row, send, signUp } from "./steps";

const baseUrl = inject("baseUrl");

describe("tools", () => {
  const me = uniqueName("tess");
  const reader = uniqueName("rex");
  const others = [uniqueName("olga"), uniqueName("omar")];
  let a: Awaited<ReturnType<typeof person>>;
  let r: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    a = await person(baseUrl, { permissions: ["clipboard-read", "clipboard-write"] });
    r = await person(baseUrl);
    await signUp(a.page, me);
    await signUp(r.page, reader);
    for (const o of others) {
      const token = await apiSignup(baseUrl, o);
      await sendAll(baseUrl, token, await apiDm(baseUrl, token, me), [`hello from ${o}`]);
    }
    const token = await apiSignup(baseUrl, uniqueName("host"), "Room Host");
    await apiRoom(baseUrl, token, "Seen room", [me, reader]);
  });
  afterAll(async () => {
    await a?.close();
    await r?.close();
  });

  it("filters the conversation list by name", async () => {
    const page = a.page;
    await row(page, others[1]!).waitFor();
    const filter = page.getByRole("searchbox", { name: "Filter conversations" });
    await filter.fill(others[1]!.slice(0, 5));
    await expect.poll(() => page.locator("button.conv").count()).toBe(1);
    await filter.fill("no such conversation");
    await page.getByText("No conversation matches.").waitFor();
    await filter.press("Escape");
    await expect.poll(() => page.locator("button.conv").count()).toBe(3);
  });

  it("pins a conversation to the top, kept across a reload", async () => {
    const page = a.page;
    const last = () => page.locator("button.conv .conv-title").last().textContent();
    const bottom = await last();
    const pin = page.getByRole("button", { name: `Pin ${bottom} to the top` });
    expect(await pin.getAttribute("aria-pressed")).toBe("false");
    await pin.click();
    await expect.poll(() => page.locator("button.conv .conv-title").first().textContent()).toBe(bottom);
    const unpin = page.getByRole("button", { name: `Unpin ${bottom}` });
    expect(await unpin.getAttribute("aria-pressed")).toBe("true");
    await page.reload();
    await expect.poll(() => page.locator("button.conv .conv-title").first().textContent()).toBe(bottom);
    expect(await page.locator("button.conv").first().textContent()).toContain("pinned");
    await page.getByRole("button", { name: `Unpin ${bottom}` }).click();
  });

  it("shows who has seen my latest message in a room", async () => {
    await row(a.page, "Seen room").click();
    await send(a.page, "who reads this?");
    const mine = messages(a.page, "who reads this?").and(a.page.locator("[data-seq]"));
    await mine.waitFor();
    expect(await mine.getByTestId("seen-by").count()).toBe(0);
    await row(r.page, "Seen room").click();
    await messages(r.page, "who reads this?").waitFor();
    await expect.poll(() => mine.getByTestId("seen-by").textContent(), { timeout: 20_000 }).toBe(`Seen by ${reader}`);
  });

  it("gives the full date when pointing at a message's time", async () => {
    const time = messages(a.page, "who reads this?").locator("time");
    const title = await time.getAttribute("title");
    expect(title).toMatch(new RegExp(String(new Date().getFullYear())));
    expect(title?.length).toBeGreaterThan(15);
  });

  it("inserts an emoji from the composer's picker, by keyboard", async () => {
    const page = a.page;
    const box = page.getByRole("textbox", { name: "Message" });
    await box.fill("good ");
    const toggle = page.getByRole("button", { name: "Insert an emoji" });
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
    await toggle.focus();
    await page.keyboard.press("Enter");
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");
    await page.getByRole("group", { name: "Insert an emoji" }).waitFor();
    expect(await unnamedControls(page)).toEqual([]);
    await page.keyboard.press("ArrowRight"); // 😀 → 😂
    await page.keyboard.press("Enter");
    await expect.poll(() => box.inputValue()).toBe("good 😂");
    await toggle.click();
    // The grid takes the focus once it is drawn: Escape is for the grid, so wait for it there.
    await expect.poll(() => page.evaluate(() => document.activeElement?.closest("#emoji-grid") !== null)).toBe(true);
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("group", { name: "Insert an emoji" }).count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Insert an emoji");
    await box.fill("");
  });

  it("names every new control in the accessibility tree", async () => {
    const page = a.page;
    // The side bar's filter and pins, the message list, the menu button, the jump button.
    const side = await page.getByRole("navigation").ariaSnapshot();
    expect(side).toContain('searchbox "Filter conversations"');
    expect(side).toMatch(/button "Pin .+ to the top"/);
    await messages(page, "who reads this?").locator("button.menu-btn").click();
    const menu = await page.getByRole("menu").ariaSnapshot();
    expect(menu).toContain('menuitem "React with 👍"');
    expect(menu).toContain('menuitem "Copy text"');
    expect(menu).toContain('menuitem "Edit"');
    expect(await unnamedControls(page)).toEqual([]);
    await page.keyboard.press("Escape");
    const list = await page.getByRole("log", { name: "Messages" }).ariaSnapshot();
    expect(list).toContain(`button "Actions for the message from you"`);
    // The mention list.
    const box = page.getByRole("textbox", { name: "Message" });
    await box.fill("");
    await box.pressSequentially("@");
    const mentions = await page.getByRole("listbox", { name: "Mention someone" }).ariaSnapshot();
    expect(mentions).toMatch(/option ".+ \(@.+\)" \[selected\]/);
    expect(await unnamedControls(page)).toEqual([]);
    await box.fill("");
  });

  it("invites by a link that opens the app at the room's join screen", async () => {
    const page = a.page;
    await page.getByRole("button", { name: "New room" }).click();
    await page.getByLabel("Room name").fill("Linked room");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByRole("heading", { level: 2, name: "# Linked room" }).waitFor();
    await page.getByRole("button", { name: "Members", exact: true }).click();
    await page.getByRole("button", { name: "Copy invite link" }).click();
    await page.getByText("Invite link copied.").waitFor();
    const link = await page.evaluate(() => navigator.clipboard.readText());
    expect(link).toMatch(/#\/join\//);
    await page.getByRole("button", { name: "Members", exact: true }).click();

    await r.page.goto(link);
    await r.page.getByRole("heading", { level: 2, name: "You were invited to a room" }).waitFor();
    expect(await unnamedControls(r.page)).toEqual([]);
    // The focus is on Join: Enter joins.
    await expect.poll(() => r.page.evaluate(() => document.activeElement?.textContent)).toBe("Join");
    await r.page.keyboard.press("Enter");
    await r.page.getByRole("heading", { level: 2, name: "# Linked room" }).waitFor();
    await expect.poll(() => page.locator("li.system", { hasText: `${reader} joined` }).count()).toBe(1);
  });
});
