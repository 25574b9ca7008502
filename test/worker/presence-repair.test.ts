/**
 * Online dots converge after announcements are lost (CI stop 32: a fault run's watchers showed a
 * member offline for good while she had a socket open, after an object reload). Each test fails on
 * the code before the repair it names.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, onTestFinished } from "vitest";
import { ConversationObject } from "../../worker/conversation";
import { connect, convSql, convStub, dmBobWatches, join, userStub } from "./helpers";

/** Every announcement `username`'s object makes to any conversation fails, for the rest of the test. */
function announcementsFail(username: string): void {
  const original = ConversationObject.prototype.memberPresence;
  ConversationObject.prototype.memberPresence = function (this: ConversationObject, who, report) {
    if (who === username) return Promise.reject(new Error("unreachable"));
    return original.call(this, who, report);
  };
  onTestFinished(() => {
    ConversationObject.prototype.memberPresence = original;
  });
}

describe("repairs of lost announcements", () => {
  it("a lease renewal carries the member's state: a conversation that missed her coming online learns it, and tells its watchers", async () => {
    const { alice, conv, inbox } = await dmBobWatches();
    announcementsFail(alice.username);
    // Her socket's lease reaches her object, which counts her online; its announcement never lands.
    const a = await join(conv.id, alice);
    expect(await convSql(conv.id, "SELECT online FROM presence WHERE username = ?", alice.username)).not.toEqual([{ online: 1 }]);
    // The heartbeat renews her lease; the answer brings her state, and Bob's inbox hears of it.
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    await inbox.next("presence", (f) => f.username === alice.username && f.online);
    a.close();
    inbox.close();
  });

  it("a renewal that shows a conversation its member watches after all sends her its view, with the changes she missed", async () => {
    const { alice, bob, conv, inbox } = await dmBobWatches();
    const b = await join(conv.id, bob);
    // The DM missed that Bob watches (as if the announcement of his inbox opening never landed).
    const held = await userStub(bob).presenceState();
    await convStub(conv.id).memberPresence(bob.username, { ...held, watching: false });
    expect(await convSql(conv.id, "SELECT watching FROM presence WHERE username = ?", bob.username)).toEqual([{ watching: 0 }]);
    // Alice comes online meanwhile (an inbox: the heartbeat then renews Bob's lease alone, at
    // once): the DM tells only its watchers, so not Bob.
    const a = await connect("/inbox", alice);
    await a.next("inbox");
    await expect.poll(async () => convSql(conv.id, "SELECT online FROM presence WHERE username = ?", alice.username), { timeout: 10_000 }).toEqual([{ online: 1 }]);
    expect(inbox.of("presence").filter((f) => f.username === alice.username)).toEqual([]);
    // The heartbeat renews Bob's lease; its answer says he watches, and the DM sends him its view.
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    await inbox.next("presence", (f) => f.username === alice.username && f.online);
    expect(await convSql(conv.id, "SELECT watching FROM presence WHERE username = ?", bob.username)).toEqual([{ watching: 1 }]);
    a.close();
    b.close();
    inbox.close();
  });

  it("an inbox opening while a conversation does not answer keeps the contacts only it mentions as they were", async () => {
    const { alice, bob, conv, inbox: bobInbox } = await dmBobWatches();
    const first = await connect("/inbox", alice);
    expect((await first.next("inbox")).online).toEqual([bob.username]);
    first.close();
    await expect.poll(async () => convSql(conv.id, "SELECT watching FROM presence WHERE username = ?", alice.username), { timeout: 10_000 }).toEqual([{ watching: 0 }]);
    // Bob is still online; the DM cannot answer Alice's object when her inbox opens again.
    announcementsFail(alice.username);
    const again = await connect("/inbox", alice);
    expect((await again.next("inbox")).online).toEqual([bob.username]);
    again.close();
    bobInbox.close();
  });
});
