/**
 * Issue 3: presence across conversations and devices. Online while any socket (inbox or
 * conversation) is open; offline after the last one ends, however it ended.
 */
import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, onTestFinished } from "vitest";
import { readAttachment, writeAttachment } from "../../worker/sockets";
import { ConversationObject } from "../../worker/conversation";
import { UserObject, type PeerPresence, type PresenceReport } from "../../worker/user";
import { ANNOUNCE_RETRY_MS } from "../../worker/user/watch";
import { api, connect, convStub, dm, join, room, signup, type Account, type TestClient, userStub } from "./helpers";


async function onlineWhen(a: Account, want: boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await userStub(a).isOnline()) === want) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${a.username} never became ${want ? "online" : "offline"}`);
}

const presenceOf = (c: TestClient, username: string) =>
  c.of("presence").filter((f) => f.username === username).map((f) => f.online);

describe("presence", () => {
  it("stays online while one of two tabs is open, and goes offline once, when both close", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const watch = await connect("/inbox", alice);
    await watch.next("inbox");
    // Bob starts offline: the test sees the transitions, not a state he was already in.
    expect(await userStub(bob).isOnline()).toBe(false);
    expect(presenceOf(watch, bob.username)).toEqual([]);

    const tab1 = await join(conv.id, bob);
    const tab2 = await connect("/inbox", bob);
    await watch.next("presence", (f) => f.username === bob.username && f.online);
    const leases = () => runInDurableObject(userStub(bob), (_i, state) => state.storage.sql.exec("SELECT count(*) AS n FROM presence_leases").one().n);
    await expect.poll(leases, { timeout: 10_000 }).toBe(1);
    tab1.close();
    await tab1.closed();
    // The conversation told Bob's object that its socket ended (the lease is gone)...
    await expect.poll(leases, { timeout: 10_000 }).toBe(0);
    // ...and his object, which decided with that news, still counts him online through the other
    // tab: it announced nothing, so the watcher has seen him come online once and never go.
    expect(await userStub(bob).isOnline()).toBe(true);
    await runDurableObjectAlarm(userStub(bob));
    expect(presenceOf(watch, bob.username)).toEqual([true]);
    tab2.close();
    await watch.next("presence", (f) => f.username === bob.username && !f.online);
    expect(presenceOf(watch, bob.username)).toEqual([true, false]);
    watch.close();
  });

  it("tells both sides of a new conversation who is already online", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const aliceInbox = await connect("/inbox", alice);
    const bobInbox = await connect("/inbox", bob);
    await aliceInbox.next("inbox");
    await bobInbox.next("inbox");
    await onlineWhen(alice, true);
    await onlineWhen(bob, true);
    // Both were online before the DM existed: no change is announced, yet both must know.
    const conv = await dm(alice, bob);
    await bobInbox.next("presence", (f) => f.username === alice.username && f.online);
    await aliceInbox.next("presence", (f) => f.username === bob.username && f.online);
    const b = await join(conv.id, bob);
    expect(b.of("welcome")[0]!.members.find((m) => m.username === alice.username)?.online).toBe(true);
    for (const c of [aliceInbox, bobInbox, b]) c.close();
  });

  it("tells the room's watchers when someone already online joins it", async () => {
    const alice = await signup("alice");
    const watcher = await signup("watch");
    const carol = await signup("carol");
    const conv = await room(alice, [watcher]);
    const inbox = await connect("/inbox", watcher);
    await inbox.next("inbox");
    // Carol is online (her app is open) before she is in the room: no change of hers is coming.
    const carolInbox = await connect("/inbox", carol);
    await carolInbox.next("inbox");
    await onlineWhen(carol, true);
    expect((await api("POST", `/api/conversations/${conv.id}/members`, alice.token, { username: carol.username })).status).toBe(200);
    await inbox.next("presence", (f) => f.username === carol.username && f.online);
    // And Carol learns who is online in the room she joined.
    await carolInbox.next("presence", (f) => f.username === watcher.username && f.online);
    inbox.close();
    carolInbox.close();
  });

  it("tells a room's members in one call per member when several come online together", async () => {
    const watcher = await signup("watch");
    const others = [await signup("p"), await signup("q"), await signup("r")];
    await room(watcher, others);
    const inbox = await connect("/inbox", watcher);
    await inbox.next("inbox");
    const calls: PeerPresence[][] = [];
    const original = UserObject.prototype.peerPresence;
    UserObject.prototype.peerPresence = function (this: UserObject, changes: PeerPresence[]) {
      if (this.profile()?.username === watcher.username) calls.push(changes);
      return original.call(this, changes);
    };
    onTestFinished(() => {
      UserObject.prototype.peerPresence = original;
    });
    const sockets = await Promise.all(others.map((o) => connect("/inbox", o)));
    await inbox.until((f) => f.filter((x) => x.t === "presence" && x.online).length === 3, 15_000);
    // Three people, one room: their changes share calls (one, unless the connects straddle the
    // one-second window on a very busy machine), never one call each.
    expect(calls.length).toBeLessThan(3);
    // (The list is the same for every member, so it may name the watcher too; its object skips that.)
    const named = calls.flat().map((c) => c.username).filter((u) => u !== watcher.username);
    expect(named.sort()).toEqual(others.map((o) => o.username).sort());
    for (const c of [inbox, ...sockets]) c.close();
  });

  it("shows members' presence inside the conversation and in the welcome", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    const b = await join(conv.id, bob);
    await a.next("presence", (f) => f.username === bob.username && f.online);
    const welcome = b.of("welcome")[0]!;
    expect(welcome.members.find((m) => m.username === alice.username)?.online).toBe(true);
    b.close();
    await a.next("presence", (f) => f.username === bob.username && !f.online);
    a.close();
  });

  it("counts a socket that stops answering as offline once the heartbeat runs out", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const watch = await connect("/inbox", alice);
    await watch.next("inbox");
    const b = await join(conv.id, bob);
    await onlineWhen(bob, true);
    const convStub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(conv.id));
    // Make the socket look silent for longer than two intervals.
    await runInDurableObject(convStub, (instance, state) => {
      for (const ws of state.getWebSockets(bob.username)) {
        const att = readAttachment(ws)!;
        writeAttachment(ws, { ...att, seen: 0, opened: 0 });
      }
      void instance;
    });
    expect(await runDurableObjectAlarm(convStub)).toBe(true);
    expect(await b.closed()).toBe(1001);
    await onlineWhen(bob, false);
    await watch.next("presence", (f) => f.username === bob.username && !f.online);
    watch.close();
  });

  it("goes offline when a conversation object vanishes without a goodbye (its lease runs out)", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    await join(conv.id, bob);
    await onlineWhen(bob, true);
    // Once the lease is written (a moment later: lease-book.ts), every object is reset: the socket
    // dies and no goodbye reaches Bob's object.
    await runInDurableObject(userStub(bob), (instance) => instance.presence.leases.flush());
    await abortAllDurableObjects();
    expect(await userStub(bob).isOnline()).toBe(true);
    // Time passes beyond the lease (three heartbeat intervals) with no renewal.
    await runInDurableObject(userStub(bob), (instance) => {
      instance.presence.setLease(conv.id, Date.now() - 1);
    });
    await runDurableObjectAlarm(userStub(bob));
    await onlineWhen(bob, false);
  });

  it("sends changes only to members with an inbox open; an inbox opened later starts from the truth", async () => {
    const idle = await signup("idle");
    const others = [await signup("p"), await signup("q"), await signup("r")];
    const conv = await room(idle, others);
    const calls: string[] = [];
    const original = UserObject.prototype.peerPresence;
    UserObject.prototype.peerPresence = function (this: UserObject, changes: PeerPresence[]) {
      if (this.profile()?.username === idle.username) calls.push(...changes.map((c) => c.username));
      return original.call(this, changes);
    };
    onTestFinished(() => {
      UserObject.prototype.peerPresence = original;
    });
    // Two come online, one goes online and offline again, while `idle` has no inbox open.
    const [p, q, r] = others as [Account, Account, Account];
    const sockets = [await join(conv.id, p), await join(conv.id, q)];
    const brief = await join(conv.id, r);
    await onlineWhen(r, true);
    brief.close();
    await onlineWhen(r, false);
    await Promise.all([onlineWhen(p, true), onlineWhen(q, true)]);
    // Past the one-second gathering window: nothing was sent to idle's object.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(calls).toEqual([]);
    // Idle opens the app: the first frame already says who is online, and later changes arrive.
    const inbox = await connect("/inbox", idle);
    const first = await inbox.next("inbox");
    expect([...first.online].sort()).toEqual([p.username, q.username].sort());
    sockets[0]!.close();
    await inbox.next("presence", (f) => f.username === p.username && !f.online);
    expect(calls).toContain(p.username);
    for (const c of [inbox, sockets[1]!]) c.close();
  });

  it("forgets, when an inbox opens, who went offline while none was open", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const first = await connect("/inbox", alice);
    const b = await join(conv.id, bob);
    await first.next("presence", (f) => f.username === bob.username && f.online);
    first.close();
    await onlineWhen(alice, false);
    // Bob leaves while Alice has no inbox: her object is not told.
    b.close();
    await onlineWhen(bob, false);
    const again = await connect("/inbox", alice);
    expect((await again.next("inbox")).online).toEqual([]);
    again.close();
  });
  it("tells a conversation that failed an announcement again, until it took it", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const team = await room(alice, [bob]);
    const direct = await dm(alice, bob);
    // The first announcement of Bob's to reach a conversation fails (that object reset meanwhile).
    const original = ConversationObject.prototype.memberPresence;
    let failures = 0;
    ConversationObject.prototype.memberPresence = function (this: ConversationObject, username: string, report: PresenceReport) {
      if (username === bob.username && report.online && failures++ === 0) throw new Error("reset meanwhile");
      return original.call(this, username, report);
    };
    onTestFinished(() => {
      ConversationObject.prototype.memberPresence = original;
    });
    const inbox = await connect("/inbox", bob);
    await inbox.next("inbox");
    expect(failures).toBeGreaterThan(0);
    // Both conversations show him online in the end: the one that failed was told again.
    const onlineIn = async (id: string) => (await convStub(id).presenceStates()).find((p) => p.username === bob.username)?.online ?? false;
    await expect.poll(async () => [await onlineIn(team.id), await onlineIn(direct.id)], { timeout: ANNOUNCE_RETRY_MS * 8, interval: 50 }).toEqual([true, true]);
    inbox.close();
  });
});
