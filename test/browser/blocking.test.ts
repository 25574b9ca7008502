/**
 * Blocking (PROTOCOL.md 7.2) in the app: from the DM header and the member list; the blocked
 * person's new DM and messages refused in words; their messages in a shared room folded away with
 * "show"; the blocked list in settings with unblock.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { apiDm, apiRoom, apiSignup, sendAll } from "./seed";
import { acceptDialogs, messages, row, send, signIn } from "./steps";

const baseUrl = inject("baseUrl");

describe("blocking", () => {
  const ann = uniqueName("ann");
  const ben = uniqueName("ben");
  const room = uniqueName("hall");
  let a: Awaited<ReturnType<typeof person>>;
  let b: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    const annToken = await apiSignup(baseUrl, ann);
    const benToken = await apiSignup(baseUrl, ben);
    const roomId = await apiRoom(baseUrl, annToken, room, [ben]);
    await apiDm(baseUrl, annToken, ben);
    await sendAll(baseUrl, benToken, roomId, ["a word from ben"]);
    [a, b] = await Promise.all([person(baseUrl), person(baseUrl)]);
    acceptDialogs(a.page);
    await signIn(a.page, ann);
    await signIn(b.page, ben);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it("blocks from the DM header; the blocked person's DM and messages are refused in words", async () => {
    await row(a.page, ben).click();
    await a.page.getByRole("button", { name: `Block ${ben}` }).click();
    await a.page.getByRole("button", { name: `Unblock ${ben}`, pressed: true }).waitFor();

    // Ben starting a DM with Ann is told why not.
    await b.page.getByRole("button", { name: "New DM" }).click();
    await b.page.getByLabel("Their username").fill(ann);
    await b.page.getByRole("button", { name: "Start", exact: true }).click();
    await b.page.getByRole("alert").filter({ hasText: "This person does not accept messages or invitations from you." }).waitFor();
    // And in Chinese.
    await b.page.getByLabel("Language").selectOption("zh");
    await b.page.getByRole("button", { name: "开始", exact: true }).click();
    await b.page.getByRole("alert").filter({ hasText: "此人不接受你的消息或邀请。" }).waitFor();
    await b.page.getByLabel("语言").selectOption("en");
    // Writing in the DM they already have is refused too.
    await row(b.page, ann).click();
    await send(b.page, "can you hear me");
    await messages(b.page, "can you hear me").getByText("Not sent: this person does not accept your messages.").waitFor();
  });

  it("folds a blocked person's room messages away, with a control to show one", async () => {
    await row(a.page, room).click();
    const folded = a.page.locator("li.msg[data-blocked=yes]");
    await folded.getByText("A message from someone you block").waitFor();
    expect(await messages(a.page, "a word from ben").count()).toBe(0);
    await a.page.getByRole("button", { name: `Show the message from ${ben}, whom you block` }).click();
    await messages(a.page, "a word from ben").waitFor();
  });

  it("lists blocked people in settings, and unblocks from there", async () => {
    await a.page.getByRole("button", { name: "Settings", exact: true }).click();
    const section = a.page.getByRole("region", { name: "Blocked people" });
    await section.getByRole("button", { name: `Unblock ${ben}` }).click();
    await section.getByText("You block no one.").waitFor();
    await a.page.getByRole("button", { name: "Close", exact: true }).click();
    await messages(a.page, "a word from ben").waitFor();
    expect(await a.page.locator("li.msg[data-blocked=yes]").count()).toBe(0);
  });

  it("blocks from the member list, with the block named for the person", async () => {
    await a.page.getByRole("button", { name: "Members", exact: true }).click();
    const manage = a.page.getByRole("button", { name: `Manage ${ben}` });
    await manage.click();
    expect(await manage.getAttribute("aria-expanded")).toBe("true");
    await a.page.getByRole("group", { name: `Manage ${ben}` }).getByRole("button", { name: `Block: ${ben}` }).click();
    await a.page.locator("li.msg[data-blocked=yes]").waitFor();
    await a.page.getByRole("button", { name: "Settings", exact: true }).click();
    await a.page.getByRole("region", { name: "Blocked people" }).getByRole("button", { name: `Unblock ${ben}` }).waitFor();
  });
});
