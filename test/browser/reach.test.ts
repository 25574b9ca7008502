/**
 * Issue 14, the last of it: a mention badge apart from the unread count, "last seen" for people who
 * are offline, and invite links to a private room (made, used in another browser, revoked), each
 * with what a screen reader is told.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { unnamedControls } from "./a11y";
import { person, uniqueName } from "./browser";
import { row, send, signUp, startDm } from "./steps";

const baseUrl = inject("baseUrl");

describe("mentions, last seen and invite links", () => {
  const owner = uniqueName("olga");
  const guest = uniqueName("gus");
  const late = uniqueName("lea");
  let o: Awaited<ReturnType<typeof person>>;
  let g: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    o = await person(baseUrl, { permissions: ["clipboard-read", "clipboard-write"] });
    g = await person(baseUrl);
    await signUp(o.page, owner);
    await signUp(g.page, guest);
  });
  afterAll(async () => {
    await o?.close();
    await g?.close();
  });

  it("shows an @ badge beside the unread count for a mention, and clears both on reading", async () => {
    await startDm(g.page, owner);
    await send(g.page, "no mention here");
    // The mention first: a trailing "@name" would open the completion list, which takes the Enter.
    await send(g.page, `@${owner} look`);
    const mine = row(o.page, guest);
    await expect.poll(() => mine.locator(".badge:not(.at)").textContent(), { timeout: 20_000 }).toBe("2");
    await expect.poll(() => mine.locator(".badge.at").textContent()).toBe("@");
    expect(await mine.getByText("1 mentioning you").count()).toBe(1);
    const snapshot = await o.page.getByRole("navigation").ariaSnapshot();
    expect(snapshot).toMatch(/2 unread\s*1 mentioning you/);
    await mine.click();
    await expect.poll(() => mine.locator(".badge").count(), { timeout: 20_000 }).toBe(0);
  });

  it("says when someone offline was last seen, in the DM header and the members panel", async () => {
    const page = o.page;
    await page.getByRole("heading", { level: 2, name: guest, exact: true }).waitFor();
    const status = page.getByTestId("conv-status");
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe("online");
    await g.page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe("last seen just now");
    await page.getByRole("button", { name: "Members", exact: true }).click();
    await expect.poll(() => page.locator(`li[data-member="${guest}"]`).textContent()).toContain("last seen just now");
    await page.getByRole("button", { name: "Members", exact: true }).click();
    // And in Chinese.
    await page.getByLabel("Language").selectOption("zh");
    await expect.poll(() => status.textContent()).toBe("最后上线：刚刚");
    await page.getByLabel("语言").selectOption("en");
  });

  it("makes a private room's invite link that another browser opens and joins with, until it is revoked", async () => {
    const page = o.page;
    await page.getByRole("button", { name: "New room" }).click();
    await page.getByLabel("Room name").fill("Back room");
    await page.getByLabel("Private (invitation only)").check();
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByRole("heading", { level: 2, name: "# Back room" }).waitFor();
    await page.getByRole("button", { name: "Members", exact: true }).click();
    await page.getByRole("button", { name: "Copy invite link" }).click();
    await page.getByText("Invite link copied.").waitFor();
    const link = await page.evaluate(() => navigator.clipboard.readText());
    expect(link).toMatch(/#\/join\/[^/]+\/[A-Za-z0-9_-]{24}$/);
    const links = page.getByRole("list", { name: "Invite links" });
    await expect.poll(() => links.getByRole("button", { name: /^Revoke: Link valid until / }).count()).toBe(1);
    expect(await unnamedControls(page)).toEqual([]);

    await g.page.goto("/");
    await g.page.getByLabel("Username").fill(guest);
    await g.page.getByLabel("Password").fill("correct horse battery");
    await g.page.getByRole("button", { name: "Sign in", exact: true }).click();
    await g.page.getByRole("button", { name: "Sign out" }).waitFor();
    await g.page.goto(link);
    await g.page.getByRole("heading", { level: 2, name: "You were invited to a room" }).waitFor();
    await g.page.getByRole("button", { name: "Join", exact: true }).click();
    await g.page.getByRole("heading", { level: 2, name: "# Back room" }).waitFor();
    await expect.poll(() => page.locator("li.system", { hasText: `${guest} joined` }).count(), { timeout: 20_000 }).toBe(1);

    // Revoked, the same link lets nobody else in, and says why.
    await links.getByRole("button", { name: /^Revoke/ }).click();
    await expect.poll(() => links.count()).toBe(0);
    const l = await person(baseUrl);
    try {
      await signUp(l.page, late);
      await l.page.goto(link);
      await l.page.getByRole("button", { name: "Join", exact: true }).click();
      await l.page.getByRole("alert").filter({ hasText: "This invite link has expired or was revoked" }).waitFor();
      expect(await row(l.page, "Back room").count()).toBe(0);
    } finally {
      await l.close();
    }
  });
});
