/**
 * Roles and moderation (PROTOCOL.md 7.3) in the app: room settings for admins and the owner, roles
 * shown and changed from the member list, a moderator's delete, removal and ban closing the
 * removed person's window with a reason, the ban list, handing over ownership, and deleting the
 * room, which leaves every member's list. Every change is a line in the conversation.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { apiRoom, apiSignup, sendAll } from "./seed";
import { unnamedControls } from "./a11y";
import { acceptDialogs, act, messages, row, signIn } from "./steps";

const baseUrl = inject("baseUrl");

/** A system line in the open conversation, as every member sees it. */
function line(page: Page, text: string) {
  return page.locator("li.system").filter({ hasText: text });
}

/**
 * The reason a removed member's window gives: who removed them when their `member` event arrived
 * before the close (the contract's order), else that they are no longer a member.
 */
function removedReason(by: string): RegExp {
  return new RegExp(`^(${by} removed you from this room\\.|You are no longer a member of this room: you left it, or were removed or banned\\.)$`);
}

/** The role shown beside a member in the member list (opened if need be). */
async function roleOf(page: Page, username: string): Promise<string | null> {
  if ((await page.getByRole("complementary", { name: "Members" }).count()) === 0) await page.getByRole("button", { name: "Members", exact: true }).click();
  return page.locator(`[data-member="${username}"] .role`).textContent();
}

async function manage(page: Page, username: string, action: string): Promise<void> {
  const panel = page.getByRole("complementary", { name: "Members" });
  if ((await panel.count()) === 0) await page.getByRole("button", { name: "Members", exact: true }).click();
  const group = page.getByRole("group", { name: `Manage ${username}` });
  if ((await group.count()) === 0) await page.getByRole("button", { name: `Manage ${username}` }).click();
  await group.getByRole("button", { name: `${action}: ${username}` }).click();
}

describe("roles and moderation", () => {
  const ann = uniqueName("ann");
  const ben = uniqueName("ben");
  const cat = uniqueName("cat");
  const hall = uniqueName("hall");
  let roomId = "";
  let catToken = "";
  let a: Awaited<ReturnType<typeof person>>;
  let b: Awaited<ReturnType<typeof person>>;
  let c: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    const annToken = await apiSignup(baseUrl, ann);
    await apiSignup(baseUrl, ben);
    catToken = await apiSignup(baseUrl, cat);
    roomId = await apiRoom(baseUrl, annToken, hall, [ben, cat]);
    await sendAll(baseUrl, catToken, roomId, ["spam from cat"]);
    [a, b, c] = await Promise.all([person(baseUrl), person(baseUrl), person(baseUrl)]);
    for (const p of [a, b, c]) acceptDialogs(p.page);
    await Promise.all([signIn(a.page, ann), signIn(b.page, ben), signIn(c.page, cat)]);
    for (const p of [a, b, c]) await row(p.page, hall).click();
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), c?.close()]);
  });

  it("lets the owner rename the room, set its topic and privacy; members see the lines, and get no settings", async () => {
    expect(await b.page.getByRole("button", { name: "Room settings" }).count()).toBe(0);
    await a.page.getByRole("button", { name: "Room settings" }).click();
    const panel = a.page.getByRole("complementary", { name: "Room settings" });
    await panel.getByLabel("Room name").fill(`${hall}x`);
    await panel.getByRole("button", { name: "Save settings" }).click();
    await panel.getByRole("status").filter({ hasText: "Room settings saved." }).waitFor();
    await line(b.page, `${ann} renamed the room: it is now called “${hall}x”`).waitFor();
    await b.page.getByRole("heading", { level: 2, name: `# ${hall}x` }).waitFor();
    await panel.getByLabel("Topic").fill("Plans for spring");
    await panel.getByRole("button", { name: "Save settings" }).click();
    await line(b.page, `${ann} set the topic: Plans for spring`).waitFor();
    const privacy = panel.getByRole("checkbox", { name: "Private (invitation only)" });
    await privacy.check();
    await panel.getByRole("button", { name: "Save settings" }).click();
    await line(b.page, `${ann} made the room private`).waitFor();
    await privacy.uncheck();
    await panel.getByRole("button", { name: "Save settings" }).click();
    await line(b.page, `${ann} made the room public`).waitFor();
    expect(await unnamedControls(a.page)).toEqual([]);
    await a.page.keyboard.press("Escape");
    await expect.poll(() => a.page.evaluate(() => document.activeElement?.id)).toBe("toggle-room");
  });

  it("makes a member an admin: roles shown, the line, and the new admin's settings", async () => {
    await manage(a.page, ben, "Make admin");
    // Every control the owner now sees (member actions open) has a name.
    expect(await unnamedControls(a.page)).toEqual([]);
    await line(a.page, `${ann} made ${ben} an admin`).waitFor();
    await line(b.page, `${ann} made ${ben} an admin`).waitFor();
    await expect.poll(() => roleOf(a.page, ben)).toBe("admin");
    await expect.poll(() => roleOf(a.page, ann)).toBe("owner");
    await b.page.getByRole("button", { name: "Room settings" }).waitFor();
  });

  it("lets an admin delete someone else's message from its menu", async () => {
    await act(b.page, "spam from cat", "Delete");
    await expect.poll(() => messages(a.page, `This message was deleted by ${ben}`).count()).toBe(1);
  });

  it("removes a member: the line, and their window closes the room with a reason", async () => {
    await manage(a.page, cat, "Remove");
    await line(a.page, `${ann} removed ${cat}`).waitFor();
    await c.page.getByRole("alert").filter({ hasText: removedReason(ann) }).waitFor();
    await expect.poll(() => row(c.page, `${hall}x`).count()).toBe(0);
  });

  it("bans a member who came back; the ban list unbans", async () => {
    const res = await fetch(`${baseUrl}/api/conversations/${encodeURIComponent(roomId)}/join`, { method: "POST", headers: { Authorization: `Bearer ${catToken}` } });
    expect(res.status).toBe(200);
    await row(c.page, `${hall}x`).click();
    await c.page.getByRole("textbox", { name: "Message" }).waitFor();
    await manage(b.page, cat, "Ban");
    await c.page.getByRole("alert").filter({ hasText: removedReason(ben) }).waitFor();
    const again = await fetch(`${baseUrl}/api/conversations/${encodeURIComponent(roomId)}/join`, { method: "POST", headers: { Authorization: `Bearer ${catToken}` } });
    expect(again.status).toBe(403);
    await b.page.getByRole("button", { name: "Room settings" }).click();
    const panel = b.page.getByRole("complementary", { name: "Room settings" });
    await panel.getByRole("button", { name: `Unban ${cat}` }).click();
    await panel.getByText("No one is banned.").waitFor();
  });

  it("hands ownership over; the new owner deletes the room and it leaves every list", async () => {
    await manage(a.page, ben, "Hand over ownership");
    await line(b.page, `${ann} made ${ben} the owner`).waitFor();
    await line(b.page, `${ann} is now an admin`).waitFor();
    await expect.poll(() => roleOf(b.page, ben)).toBe("owner");
    // Only the owner is offered the deletion.
    await a.page.getByRole("button", { name: "Room settings" }).click();
    expect(await a.page.getByRole("button", { name: "Delete room" }).count()).toBe(0);
    await b.page.getByRole("button", { name: "Room settings" }).click();
    await b.page.getByRole("button", { name: "Delete room" }).click();
    await expect.poll(() => row(b.page, `${hall}x`).count()).toBe(0);
    await expect.poll(() => row(a.page, `${hall}x`).count(), { timeout: 20_000 }).toBe(0);
    await a.page.getByRole("alert").filter({ hasText: "This room was deleted" }).waitFor();
  });
});
