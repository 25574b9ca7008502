/**
 * Issue 11: what people see that is derived from the log (unread badges, online dots, the
 * heartbeat that clears dead sockets) converges to the truth after faults, reordering and
 * retries. Each test here failed on the code before the fix it names (run against that commit).
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Summary } from "../../protocol";
import { SESSION_EXPIRES_HEADER } from "../../worker/auth/session";
import { ConversationObject } from "../../worker/conversation";
import { IDENTITY_HEADERS } from "../../worker/identity";
import { UserObject } from "../../worker/user";
import { api, connect, convSql, convStub, dm, join, room, sessionOf, setLimits, signup, type Account, sendAll, userStub, watchedDm } from "./helpers";



async function listed(account: Account): Promise<Summary[]> {
  const res = await api("GET", "/api/conversations", account.token);
  expect(res.status).toBe(200);
  return ((await res.json()) as { conversations: Summary[] }).conversations;
}

/** Replaces a user object method for one user for the rest of the test. */
function patchFor<K extends "activity" | "removeConversation">(
  method: K,
  username: string,
  replacement: (this: UserObject, original: UserObject[K], ...args: Parameters<UserObject[K]>) => ReturnType<UserObject[K]>,
): () => void {
  const original = UserObject.prototype[method];
  const patched = function (this: UserObject, ...args: Parameters<UserObject[K]>) {
    if (this.profile()?.username !== username) return (original as (...a: unknown[]) => unknown).apply(this, args);
    return replacement.call(this, original, ...args);
  };
  UserObject.prototype[method] = patched as unknown as UserObject[K];
  const restore = () => {
    UserObject.prototype[method] = original;
  };
  onTestFinished(restore);
  return restore;
}

describe("refusals", () => {
  it("a refused socket is closed on a plain pair, never accepted for hibernation (4403, 4404, 4429)", async () => {
    // A socket accepted for hibernation and closed at once lingers for seconds before the client
    // sees the connection end (wrangler dev); a plain pair does not. What shows which one was
    // used here: a hibernatable socket's end reaches the object's webSocketClose.
    const ended: string[] = [];
    const original = ConversationObject.prototype.webSocketClose;
    ConversationObject.prototype.webSocketClose = function (this: ConversationObject, ws: WebSocket, code: number, reason: string) {
      ended.push(String(code));
      return original.call(this, ws, code, reason);
    };
    onTestFinished(() => {
      ConversationObject.prototype.webSocketClose = original;
    });
    const alice = await signup("alice");
    const bob = await signup("bob");
    const eve = await signup("eve");
    const conv = await dm(alice, bob);
    const outsider = await connect(`/chat/${conv.id}`, eve);
    expect(await outsider.closed()).toBe(4403);
    // A conversation id that was never created.
    const nowhere = await connect(`/chat/r${"0".repeat(31)}`, eve);
    expect(await nowhere.closed()).toBe(4404);
    await setLimits(conv.id, { socketsPerUser: 1 });
    const first = await join(conv.id, alice);
    const second = await connect(`/chat/${conv.id}`, alice);
    expect(await second.closed()).toBe(4429);
    // The served socket is the only one the object holds, and no refused one ever reached it.
    expect(await runInDurableObject(convStub(conv.id), (_i, state) => state.getWebSockets().length)).toBe(1);
    expect(ended).toEqual([]);
    first.close();
    await first.closed();
    expect(ended).toEqual(["1000"]);
  });
});

describe("the heartbeat in a busy room", () => {
  it("runs every interval while messages keep arriving: re-arms, closes a silent socket, keeps a bot online", async () => {
    const alice = await signup("alice");
    const bot = await signup("bot");
    const silent = await signup("silent");
    const watcher = await signup("watch");
    const conv = await room(alice, [bot, silent, watcher]);
    // Long enough that a loaded machine's pauses never look like a dead client to the sweep.
    const HEARTBEAT = 1500;
    const inbox = await connect("/inbox", watcher);
    await inbox.next("inbox");
    const a = await join(conv.id, alice);
    const b = await join(conv.id, bot);
    const s = await join(conv.id, silent);
    await setLimits(conv.id, { heartbeatMs: HEARTBEAT });
    await inbox.next("presence", (f) => f.username === bot.username && f.online);
    // The bot and alice talk all the time (every frame counts as a heartbeat); `silent` says nothing.
    let busy = true;
    const talk = (async () => {
      while (busy) {
        await sendAll(a, ["tick"]);
        await sendAll(b, ["tock"]);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      // Four intervals and more, each with an alarm that must return while the room stays busy,
      // and leave the next one set (the runtime's own firing may be re-arming it at that moment).
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, HEARTBEAT));
        await runDurableObjectAlarm(convStub(conv.id));
        await expect
          .poll(() => runInDurableObject(convStub(conv.id), (_i, state) => state.storage.getAlarm()), { timeout: 5_000 })
          .not.toBeNull();
      }
      expect(await s.closed()).toBe(1001);
    } finally {
      busy = false;
      await talk.catch(() => {});
    }
    // The bot was never announced offline: its lease was renewed on every interval.
    expect(inbox.of("presence").filter((f) => f.username === bot.username && !f.online)).toEqual([]);
    expect(a.closeCode).toBeNull();
    expect(b.closeCode).toBeNull();
    for (const c of [a, b, inbox]) c.close();
  });
});

describe("notifications, at least once", () => {
  it("an object reset during a notification round: the badge is exact once the inbox opens again", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const inbox = await connect("/inbox", bob);
    await inbox.next("inbox");
    // Bob's object takes the batch and never answers: the round is in flight.
    let calls = 0;
    const restore = patchFor("activity", bob.username, () => {
      calls++;
      return new Promise<void>(() => {});
    });
    const a = await join(conv.id, alice);
    await sendAll(a, ["one", "two", "three"]);
    await expect.poll(() => calls, { timeout: 10_000 }).toBeGreaterThan(0);
    await abortAllDurableObjects();
    restore();
    const again = await connect("/inbox", bob);
    const first = await again.next("inbox");
    expect(first.conversations.find((c) => c.id === conv.id)?.unread).toBe(3);
    expect((await listed(bob)).find((c) => c.id === conv.id)?.unread).toBe(3);
    again.close();
  });

  it("a round a route started (a join) whose call fails sets the alarm, and the alarm pays the debt", async () => {
    const alice = await signup("alice");
    const carol = await signup("carol");
    const conv = await room(alice);
    const inbox = await connect("/inbox", alice);
    await inbox.next("inbox");
    const restore = patchFor("activity", alice.username, () => Promise.reject(new Error("unreachable")));
    const res = await api("POST", `/api/conversations/${conv.id}/join`, carol.token);
    expect(res.status).toBe(200);
    await expect.poll(async () => (await convSql(conv.id, "SELECT count(*) AS n FROM notify_retry"))[0]?.n, { timeout: 10_000 }).toBe(1);
    expect(await runInDurableObject(convStub(conv.id), (_i, state) => state.storage.getAlarm())).not.toBeNull();
    restore();
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    await expect.poll(async () => (await convSql(conv.id, "SELECT count(*) AS n FROM notify_retry"))[0]?.n, { timeout: 10_000 }).toBe(0);
    // Alice's list learnt of the join (the room's member count) from the paid debt.
    expect((await userStub(alice).summary(conv.id))?.members).toBe(2);
    inbox.close();
  });
});

describe("presence versions", () => {
  it("a conversation ignores an announcement older than the one it holds (offline, then online, delivered reversed)", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const stub = convStub(conv.id);
    await stub.memberPresence(bob.username, { online: true, watching: true, version: 41 });
    await stub.memberPresence(bob.username, { online: false, watching: false, version: 40 });
    expect(await convSql(conv.id, "SELECT online, watching FROM presence WHERE username = ?", bob.username)).toEqual([{ online: 1, watching: 1 }]);
    const a = await join(conv.id, alice);
    expect(a.of("welcome")[0]!.members.find((m) => m.username === bob.username)?.online).toBe(true);
    a.close();
  });

  it("a watcher ignores a contact's state older than the one it holds", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    await dm(alice, bob);
    const inbox = await connect("/inbox", alice);
    await inbox.next("inbox");
    await userStub(alice).peerPresence([{ username: bob.username, online: true, version: 9 }]);
    await userStub(alice).peerPresence([{ username: bob.username, online: false, version: 8 }]);
    // A later change of someone else's marks the point by which any frame of the stale call arrived.
    await userStub(alice).peerPresence([{ username: "marker", online: true, version: 1 }]);
    await inbox.next("presence", (f) => f.username === "marker");
    expect(inbox.of("presence").filter((f) => f.username === bob.username).map((f) => f.online)).toEqual([true]);
    inbox.close();
  });
});

describe("counts applied by version", () => {
  it("a read mark whose count is older than an activity already applied does not undercount", async () => {
    const { bob, conv, inbox, a } = await watchedDm();
    const seqs = await sendAll(a, ["one", "two", "three"]);
    await inbox.next("activity", (f) => f.seq === seqs[2] && f.unread === 3);
    // Bob read the first message on another device; the count computed then (as of the second
    // message) arrives only now, after the third was counted.
    // (The mark moved through the store, which keeps the members in memory, but without a call.)
    await runInDurableObject(convStub(conv.id), (instance) => {
      instance.store.markRead(bob.username, seqs[0]!);
    });
    await userStub(bob).readMoved(conv.id, seqs[0]!, 1, seqs[1]!, []);
    await expect.poll(async () => (await userStub(bob).summary(conv.id))?.unread, { timeout: 10_000 }).toBe(2);
    await inbox.next("read", (f) => f.conv === conv.id && f.unread === 2);
    expect(inbox.of("read").every((f) => f.unread === 2)).toBe(true);
    a.close();
    inbox.close();
  });

  it("two inboxes opened at once both start from exact counts", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    await sendAll(a, ["one", "two", "three"]);
    // What Bob's object holds is wrong (nothing told it: no inbox was open), and stale as stored.
    await runInDurableObject(userStub(bob), (instance) => {
      instance.sql.exec("UPDATE convs SET unread = 0, notified_seq = 0, last_seq = 0 WHERE id = ?", conv.id);
    });
    const [one, two] = await Promise.all([connect("/inbox", bob), connect("/inbox", bob)]);
    for (const c of [one!, two!]) {
      const first = await c.next("inbox");
      expect(first.conversations.find((s) => s.id === conv.id)?.unread).toBe(3);
    }
    for (const c of [a, one!, two!]) c.close();
  });
});

describe("operations across objects complete", () => {
  it("a leave whose second half fails: 204, and the room leaves the list once the alarm retries", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await room(alice, [bob]);
    const inbox = await connect("/inbox", bob);
    await inbox.next("inbox");
    const restore = patchFor("removeConversation", bob.username, () => {
      throw new Error("unreachable");
    });
    const res = await api("POST", `/api/conversations/${conv.id}/leave`, bob.token);
    expect(res.status).toBe(204);
    expect((await listed(bob)).map((c) => c.id)).toContain(conv.id);
    restore();
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    await expect.poll(async () => (await listed(bob)).map((c) => c.id), { timeout: 10_000 }).not.toContain(conv.id);
    await inbox.next("left", (f) => f.conv === conv.id);
    inbox.close();
  });

  it("a late add from before a leave cannot bring the room back; a new join can", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await room(alice, [bob]);
    const before = await convStub(conv.id).summaryFor(bob.username);
    expect((await api("POST", `/api/conversations/${conv.id}/leave`, bob.token)).status).toBe(204);
    // The add computed before the leave arrives now.
    expect(await userStub(bob).addConversation(before!)).toBeNull();
    expect((await listed(bob)).map((c) => c.id)).not.toContain(conv.id);
    expect((await api("POST", `/api/conversations/${conv.id}/join`, bob.token)).status).toBe(200);
    expect((await listed(bob)).map((c) => c.id)).toContain(conv.id);
  });
});


describe("sockets outliving their session", () => {
  it("are closed with 4401 by the next sweep once the session has expired; others stay", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const live = await join(conv.id, bob);
    // The Worker puts the session's expiry on the upgrade it forwards; this one expires at once.
    const code = await runInDurableObject(convStub(conv.id), async (instance) => {
      const headers = {
        Upgrade: "websocket",
        [IDENTITY_HEADERS.user]: alice.username,
        [IDENTITY_HEADERS.session]: sessionOf(alice),
        [SESSION_EXPIRES_HEADER]: String(Date.now() + 1),
      };
      const res = await instance.fetch(new Request(`https://chat.test/chat/${conv.id}`, { headers }));
      const ws = res.webSocket!;
      const closed = new Promise<number>((resolve) => ws.addEventListener("close", (ev) => resolve(ev.code)));
      ws.accept();
      await new Promise((r) => setTimeout(r, 5));
      await instance.alarm();
      return closed;
    });
    expect(code).toBe(4401);
    expect(live.closeCode).toBeNull();
    live.send({ t: "send", id: "still-here", body: "still here" });
    await live.next("ack");
    live.close();
  });
});
