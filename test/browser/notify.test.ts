/**
 * A desktop notification for a message that arrives while the tab is hidden, once the person has
 * allowed notifications; none while the tab is on screen. Constructions of Notification are
 * recorded by an init script; the tab's visibility is emulated (headless tabs are always visible).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { recordNotifications, setHidden, shown } from "./notifications";
import { apiDm, apiRoom, apiSignup, sendAll } from "./seed";
import { messages, row, signUp } from "./steps";

const baseUrl = inject("baseUrl");

describe("desktop notifications", () => {
  const reader = uniqueName("nora");
  const writer = uniqueName("otto");
  let r: Awaited<ReturnType<typeof person>>;
  let token = "";
  let conv = "";

  beforeAll(async () => {
    r = await person(baseUrl);
    await r.context.grantPermissions(["notifications"], { origin: baseUrl });
    await r.context.addInitScript(recordNotifications);
    await signUp(r.page, reader);
    token = await apiSignup(baseUrl, writer);
    conv = await apiDm(baseUrl, token, reader);
  });
  afterAll(async () => { await r?.close(); });

  it("is allowed: the app does not offer to enable notifications", async () => {
    expect(await r.page.evaluate(() => Notification.permission)).toBe("granted");
    await row(r.page, writer).waitFor({ timeout: 20_000 });
    expect(await r.page.getByRole("button", { name: "Enable notifications" }).count()).toBe(0);
  });

  it("notifies of a message in a conversation that is not open, while the tab is hidden", async () => {
    await setHidden(r.page, true);
    await sendAll(baseUrl, token, conv, ["are you there?"], "a");
    await expect.poll(() => shown(r.page), { timeout: 20_000 }).toEqual([{ title: writer, body: "are you there?" }]);
    await setHidden(r.page, false);
  });

  it("notifies of a message in the open conversation only while the tab is hidden, once each", async () => {
    await row(r.page, writer).click();
    await messages(r.page, "are you there?").waitFor();

    // On screen: no notification.
    await sendAll(baseUrl, token, conv, ["seen live"], "b");
    await messages(r.page, "seen live").waitFor();

    await setHidden(r.page, true);
    await sendAll(baseUrl, token, conv, ["while you were away"], "c");
    await messages(r.page, "while you were away").waitFor();
    await expect.poll(() => shown(r.page)).toEqual([
      { title: writer, body: "are you there?" },
      { title: writer, body: "while you were away" },
    ]);
    await setHidden(r.page, false);
  });

  it("says who wrote in a room, by display name", async () => {
    const host = await apiSignup(baseUrl, uniqueName("hal"), "Hal Host");
    const room = await apiRoom(baseUrl, host, "Notified room", [reader]);
    await row(r.page, "Notified room").waitFor({ timeout: 20_000 });
    // The reader has seen Hal by name once (the welcome of the room names its members).
    await row(r.page, "Notified room").click();
    await expect.poll(() => r.page.getByTestId("conv-status").textContent()).toMatch(/^2 members/); // the welcome is in
    await r.page.evaluate(() => history.back());
    await setHidden(r.page, true);
    await sendAll(baseUrl, host, room, ["lunch?"], "d");
    await expect.poll(() => shown(r.page), { timeout: 20_000 }).toContainEqual({ title: "# Notified room", body: "Hal Host: lunch?" });
    await setHidden(r.page, false);
  });

  it("in a muted conversation, notifies only of a message that mentions me, open or not", async () => {
    await row(r.page, writer).click();
    const mute = r.page.getByRole("button", { name: "Mute", exact: true });
    await mute.click();
    await r.page.getByRole("button", { name: "Mute", exact: true, pressed: true }).waitFor();
    await r.page.evaluate(() => window.shown?.splice(0)); // the recorder keeps this very array
    await setHidden(r.page, true);
    // Open: messages come over the conversation's own socket.
    await sendAll(baseUrl, token, conv, ["muted chatter", `@${reader} need you`], "e");
    await messages(r.page, `@${reader} need you`).waitFor();
    await expect.poll(() => shown(r.page), { timeout: 20_000 }).toEqual([{ title: writer, body: `@${reader} need you` }]);
    // Not open: they come over the inbox, which tells by the server's mention count.
    await setHidden(r.page, false);
    await r.page.evaluate(() => history.back());
    await setHidden(r.page, true);
    await sendAll(baseUrl, token, conv, ["more chatter", `still there @${reader}?`], "f");
    await expect.poll(() => shown(r.page), { timeout: 20_000 }).toHaveLength(2);
    expect((await shown(r.page))[1]).toEqual({ title: writer, body: `still there @${reader}?` });
    await setHidden(r.page, false);
  });
});
