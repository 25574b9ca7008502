/**
 * Online dots converge after announcements are lost (CI stop 32: a fault run's watchers showed a
 * member offline for good while she had a socket open, after an object reload). Each test fails on
 * the code before the repair it names.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, onTestFinished } from "vitest";
import { ConversationObject } from "../../worker/conversation";
import { connect, convSql, convStub, dmBobWatches, join, room, userStub } from "./helpers";

/**
 * Every announcement `username`'s object makes to any conversation fails, until the function
 * returned is called or the test ends.
 */
function announcementsFail(username: string): () => void {
  const original = ConversationObject.prototype.memberPresence;
  ConversationObject.prototype.memberPresence = function (this: ConversationObject, who, report) {
    if (who === username) return Promise.reject(new Error("unreachable"));
    return original.call(this, who, report);
  };
  const restore = () => {
    ConversationObject.prototype.memberPresence = original;
  };
  onTestFinished(restore);
  return restore;
}

/**
 * Alice, with a DM with Bob (whose inbox is open) and a room of Bob's she is in, opens a socket in
 * the DM while no announcement of hers lands, and her object's retries (made quick and few) run
 * out: it counts her online, and the room, where she has no socket and so no lease to renew,
 * keeps her offline.
 */
async function aliceOnlineUntold() {
  const set = await dmBobWatches();
  const other = await room(set.bob, [set.alice]);
  await runInDurableObject(userStub(set.alice), (instance) => {
    instance.watch.retryMs = 5;
    instance.watch.tries = 2;
  });
  const restore = announcementsFail(set.alice.username);
  const a = await join(set.conv.id, set.alice);
  const { online, version } = await userStub(set.alice).presenceState();
  expect(online).toBe(true);
  const inRoom = () => convSql(other.id, "SELECT online, version FROM presence WHERE username = ?", set.alice.username);
  // The retries (5 and 10 ms) are over well before this.
  await new Promise((r) => setTimeout(r, 200));
  expect(await inRoom()).not.toEqual([{ online: 1, version }]);
  return { ...set, other, a, restore, version, inRoom };
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

  it("a user object reset before its announcement went out announces it when it wakes again", async () => {
    const { alice, bob, conv, inbox } = await dmBobWatches();
    const other = await room(bob, [alice]);
    const inRoom = () => convSql(other.id, "SELECT online, version FROM presence WHERE username = ?", alice.username);
    const a = await join(conv.id, alice);
    const online = await userStub(alice).presenceState();
    await expect.poll(inRoom, { timeout: 10_000 }).toEqual([{ online: 1, version: online.version }]);
    // Her object works out that she went offline, and is reset before it tells anyone: here its
    // announcing is switched off until the instance goes.
    await runInDurableObject(userStub(alice), (instance) => {
      instance.watch.announce = async () => {};
    });
    a.close();
    await expect.poll(async () => (await runInDurableObject(userStub(alice), (instance) => instance.presence.announced())).online, { timeout: 10_000 }).toBe(false);
    expect(await runInDurableObject(userStub(alice), (instance) => instance.presence.untold())).toBe(true);
    await evictDurableObject(userStub(alice));
    expect(await inRoom()).toEqual([{ online: 1, version: online.version }]);
    // Any call wakes a fresh instance, which finds her state untold and announces it.
    expect((await userStub(alice).profile())?.username).toBe(alice.username);
    await expect.poll(inRoom, { timeout: 10_000 }).toEqual([{ online: 0, version: online.version + 1 }]);
    // Every conversation took it: the flag is cleared a moment later (no lease is live to carry it).
    await expect.poll(() => runInDurableObject(userStub(alice), (instance) => instance.presence.untold()), { timeout: 10_000 }).toBe(false);
    inbox.close();
  });

  it("an announcement that every conversation took after her lease was written clears its flag before the next renewal", async () => {
    const { alice, conv, inbox } = await dmBobWatches();
    // Her announcements land, but only after her socket's lease was written (a second after the
    // report): nothing else is due to be written until the next renewal, half a minute on, and
    // under wrangler dev her object is put out of memory ten seconds after its last event. A flag
    // still set then made every renewal that woke it announce her state to all her conversations
    // again, waking each (issue 17, nineteenth session).
    const original = ConversationObject.prototype.memberPresence;
    const announced = { count: 0 };
    ConversationObject.prototype.memberPresence = async function (this: ConversationObject, who, report) {
      if (who === alice.username) {
        announced.count++;
        await new Promise((r) => setTimeout(r, 1500));
      }
      return original.call(this, who, report);
    };
    onTestFinished(() => {
      ConversationObject.prototype.memberPresence = original;
    });
    const a = await join(conv.id, alice);
    const { version } = await userStub(alice).presenceState();
    await expect.poll(() => convSql(conv.id, "SELECT online, version FROM presence WHERE username = ?", alice.username), { timeout: 10_000 }).toEqual([{ online: 1, version }]);
    const stored = () => runInDurableObject(userStub(alice), (_instance, state) => state.storage.sql.exec<{ untold: number }>("SELECT untold FROM presence_state").one().untold);
    await expect.poll(stored, { timeout: 5_000 }).toBe(0);
    // A fresh instance has nothing to announce again.
    const before = announced.count;
    await evictDurableObject(userStub(alice));
    expect((await userStub(alice).profile())?.username).toBe(alice.username);
    await new Promise((r) => setTimeout(r, 200));
    expect(announced.count).toBe(before);
    a.close();
    inbox.close();
  });

  it("an announcement whose retries all failed reaches the conversations left with the next lease renewal", async () => {
    const { alice, conv, inbox, a, restore, version, inRoom } = await aliceOnlineUntold();
    restore();
    // Nothing tries the room again by itself any more (the default retries would have, 0.5 s
    // after the first failure); the DM's heartbeat renews her lease.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await inRoom()).not.toEqual([{ online: 1, version }]);
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    await expect.poll(inRoom, { timeout: 10_000 }).toEqual([{ online: 1, version }]);
    await inbox.next("presence", (f) => f.username === alice.username && f.online);
    // Taken everywhere: the flag goes with the lease's next write.
    await expect.poll(() => runInDurableObject(userStub(alice), (instance) => instance.presence.untold()), { timeout: 10_000 }).toBe(false);
    a.close();
    inbox.close();
  });
});
