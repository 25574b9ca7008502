/**
 * Issue 3: the inbox socket and the unread counts in each user's object, fed by the
 * conversation objects off the send path.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Summary } from "../../protocol";
import { UserObject, type ActivityBatch } from "../../worker/user";
import { api, connect, dm, join, room, signup, type Account, sendAll, uniqueName, userStub, watchedDm } from "./helpers";


async function summaries(account: Account): Promise<Summary[]> {
  const res = await api("GET", "/api/conversations", account.token);
  expect(res.status).toBe(200);
  return ((await res.json()) as { conversations: Summary[] }).conversations;
}

/** Polls until the summary of `id` satisfies `pred` (notifications travel off the send path). */
async function summaryWhen(account: Account, id: string, pred: (s: Summary) => boolean): Promise<Summary> {
  for (let i = 0; i < 200; i++) {
    const s = (await summaries(account)).find((x) => x.id === id);
    if (s && pred(s)) return s;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`summary of ${id} never matched: ${JSON.stringify((await summaries(account)).find((x) => x.id === id))}`);
}


describe("unread counts", () => {
  it("counts an offline member's unread messages, clears them on read, and tells their other devices", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    const seqs = await sendAll(a, ["one", "two", "three", "four", "five"]);

    const s = await summaryWhen(bob, conv.id, (x) => x.unread === 5);
    expect(s).toMatchObject({ unread: 5, lastSeq: seqs[4], readSeq: 0, last: { from: alice.username, body: "five" } });
    // Alice's own messages never count for her.
    expect(await summaryWhen(alice, conv.id, (x) => x.lastSeq === seqs[4])).toMatchObject({ unread: 0 });

    const phone = await connect("/inbox", bob);
    await phone.next("inbox");
    const laptop = await join(conv.id, bob);
    laptop.send({ t: "read", seq: seqs[2] });
    const read = await phone.next("read");
    expect(read).toEqual({ t: "read", conv: conv.id, seq: seqs[2], unread: 2, mentions: 0 });
    expect(await summaryWhen(bob, conv.id, (x) => x.readSeq === seqs[2])).toMatchObject({ unread: 2 });
    for (const c of [a, phone, laptop]) c.close();
  });

  it("calls no one who has no inbox open, and counts for them on demand, exactly", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const carol = await signup("carol");
    const conv = await room(alice, [bob, carol]);
    const calls: string[] = [];
    const original = UserObject.prototype.activity;
    UserObject.prototype.activity = function (this: UserObject, batch: ActivityBatch) {
      calls.push(this.profile()?.username ?? "?");
      return original.call(this, batch);
    } as typeof original;
    onTestFinished(() => {
      UserObject.prototype.activity = original;
    });
    const convStub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(conv.id));
    const carolInbox = await connect("/inbox", carol);
    await carolInbox.next("inbox");
    const a = await join(conv.id, alice);
    const seqs = await sendAll(a, ["one", "two", "three"]);
    await carolInbox.until((f) => f.filter((x) => x.t === "activity").length === 3, 15_000);
    await runInDurableObject(convStub, (instance) => instance.notifier.settle());
    // Only Carol watches: Bob's object was never called, yet asking gives the exact figures.
    expect(calls.filter((u) => u === bob.username)).toEqual([]);
    expect(calls).toContain(carol.username);
    const listed = (await summaries(bob)).find((x) => x.id === conv.id);
    expect(listed).toMatchObject({ unread: 3, lastSeq: seqs[2], last: { body: "three" } });
    // Bob opens the app: the first frame is exact, and from then on he is told as it happens.
    const inbox = await connect("/inbox", bob);
    const first = await inbox.next("inbox");
    expect(first.conversations.find((x) => x.id === conv.id)).toMatchObject({ unread: 3, lastSeq: seqs[2] });
    const [fourth] = await sendAll(a, ["four"]);
    const activity = await inbox.next("activity", (f) => f.seq === fourth);
    expect(activity).toMatchObject({ conv: conv.id, unread: 4, preview: "four" });
    expect((await summaries(bob)).find((x) => x.id === conv.id)).toMatchObject({ unread: 4 });
    for (const c of [a, inbox, carolInbox]) c.close();
    await runInDurableObject(convStub, (instance) => instance.notifier.settle());
  });

  it("takes a deleted message off the count", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    const seqs = await sendAll(a, ["keep", "oops"]);
    await summaryWhen(bob, conv.id, (x) => x.unread === 2);
    a.send({ t: "delete", target: seqs[1] });
    await a.next("delete");
    const s = await summaryWhen(bob, conv.id, (x) => x.unread === 1);
    expect(s.last).toMatchObject({ seq: seqs[1], deleted: true });
    a.close();
  });

  it("takes a deleted message off the count while an inbox is open, and tells the inbox", async () => {
    const { bob, conv, inbox, a } = await watchedDm();
    const seqs = await sendAll(a, ["keep", "oops"]);
    await inbox.next("activity", (f) => f.seq === seqs[1] && f.unread === 2);
    a.send({ t: "delete", target: seqs[1] });
    await a.next("delete");
    // The count in Bob's object comes down by the batch's deletion (he watches: no recount)...
    const told = await inbox.next("read", (f) => f.conv === conv.id);
    expect(told.unread).toBe(1);
    expect((await userStub(bob).summary(conv.id))?.unread).toBe(1);
    // ...and what his list says agrees.
    expect((await summaries(bob)).find((x) => x.id === conv.id)).toMatchObject({ unread: 1, last: { seq: seqs[1], deleted: true } });
    a.close();
    inbox.close();
  });

  it("sends the inbox on connect and activity live, counting each message once", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const inbox = await connect("/inbox", bob);
    const first = await inbox.next("inbox");
    expect(first.conversations.map((c) => c.id)).toContain(conv.id);
    const a = await join(conv.id, alice);
    const seqs = await sendAll(a, ["hi", "there"]);
    await inbox.until((f) => f.filter((x) => x.t === "activity").length === 2);
    expect(inbox.of("activity")).toEqual([
      expect.objectContaining({ conv: conv.id, seq: seqs[0], from: alice.username, preview: "hi", unread: 1 }),
      expect.objectContaining({ conv: conv.id, seq: seqs[1], from: alice.username, preview: "there", unread: 2 }),
    ]);
    // A batch delivered again (a retry) counts nothing twice.
    const stub = env.USERS.get(env.USERS.idFromName(bob.username));
    const again: ActivityBatch = {
      conv: conv.id, lastSeq: seqs[1]!, last: null, deleted: [],
      items: seqs.map((seq) => ({ seq, from: alice.username, preview: "x", ts: Date.now() })),
    };
    await stub.activity(again);
    expect((await summaries(bob)).find((x) => x.id === conv.id)).toMatchObject({ unread: 2 });
    a.close();
    inbox.close();
  });

  it("announces a new conversation with `joined`", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const inbox = await connect("/inbox", bob);
    await inbox.next("inbox");
    const conv = await room(alice, [bob]);
    const joined = await inbox.next("joined");
    expect(joined.conversation).toMatchObject({ id: conv.id, kind: "room" });
    inbox.close();
  });
});

describe("fan-out to a large room", () => {
  it("gives each member one activity per message, and the ack does not wait for a slow member", async () => {
    const alice = await signup("alice");
    const watcher = await signup("watch");
    const slow = await signup("slow");
    const conv = await room(alice, [watcher, slow]);
    const convStub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(conv.id));
    // 120 more members (over a hundred: the round waits longest) with accounts written straight into their objects (signing up 200 people
    // would only test PBKDF2), each with the room in its list and an inbox "open" (announced as
    // watching), so that every one of them is notified like a real member.
    const extra = Array.from({ length: 120 }, (_, i) => `bulk${i}x${conv.id.slice(1, 9)}`);
    await runInDurableObject(convStub, (instance) => {
      for (const u of extra) instance.store.addMember(u, u, Date.now());
    });
    await Promise.all(
      extra.map(async (u) => {
        const stub = env.USERS.get(env.USERS.idFromName(u));
        await runInDurableObject(stub, (instance) => {
          instance.sql.exec("INSERT INTO account (username, name, salt, hash, iterations, created) VALUES (?, ?, '', '', 1, 0)", u, u);
        });
        await stub.addConversation((await convStub.summaryFor(u))!);
        await convStub.memberPresence(u, { online: true, watching: true, version: 1 });
      }),
    );
    expect(await convStub.access(extra[0]!)).toBe("ok");

    // The slow member's object does not answer until released. RPC calls prototype methods, and
    // the objects run in this isolate, so the method is wrapped there for that one user.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let slowCalls = 0;
    const original = UserObject.prototype.activity;
    UserObject.prototype.activity = async function (this: UserObject, batch: ActivityBatch) {
      if (this.profile()?.username === slow.username) {
        slowCalls++;
        await released;
      }
      return original.call(this, batch);
    } as unknown as typeof original;
    onTestFinished(() => {
      UserObject.prototype.activity = original;
    });

    const inbox = await connect("/inbox", watcher);
    await inbox.next("inbox");
    // The slow member has the app open too: only members with an inbox open are notified.
    const slowInbox = await connect("/inbox", slow);
    await slowInbox.next("inbox");
    const a = await join(conv.id, alice);
    const [first] = await sendAll(a, ["m1"]);
    // The slow member is now holding the first round's call...
    await expect.poll(() => slowCalls, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    // ...and yet the sender's acks keep coming, and the other members hear of every message.
    const rest = await sendAll(a, ["m2", "m3"]);
    const seqs = [first!, ...rest];
    await inbox.until((f) => f.filter((x) => x.t === "activity").length === 3, 15_000);
    expect(inbox.of("activity").map((x) => x.seq)).toEqual(seqs);
    // While the first call is still held, the slow member is not called again (it is owed).
    expect(slowCalls).toBe(1);
    release();
    const s = await summaryWhen(slow, conv.id, (x) => x.unread === 3);
    expect(s.unread).toBe(3);
    // Every other watcher counted each message exactly once.
    await runInDurableObject(convStub, (instance) => instance.notifier.settle());
    const counts = await Promise.all(extra.map(async (u) => (await env.USERS.get(env.USERS.idFromName(u)).summary(conv.id))?.unread));
    expect(new Set(counts)).toEqual(new Set([3]));
    a.close();
    inbox.close();
    slowInbox.close();
    // Let the last flush finish inside the test, not during teardown.
    await runInDurableObject(convStub, (instance) => instance.notifier.settle());
  }, 120_000);
});

describe("an account whose name was tried before it existed", () => {
  it("has every table: its inbox opens, goes offline with a last-seen time, and counts uploads", async () => {
    const username = uniqueName("early");
    // A log-in under a name nobody has: the object erases the tables its constructor made.
    expect((await api("POST", "/api/login", undefined, { username, password: "correct horse battery" })).status).toBe(401);
    const res = await api("POST", "/api/signup", undefined, { username, password: "correct horse battery" });
    expect(res.status).toBe(201);
    const account: Account = { username, token: ((await res.json()) as { token: string }).token };
    const inbox = await connect("/inbox", account);
    expect((await inbox.next("inbox")).conversations).toEqual([]);
    inbox.close();
    await expect
      .poll(() => runInDurableObject(env.USERS.get(env.USERS.idFromName(username)), (instance: UserObject) => instance.presenceState()))
      .toMatchObject({ online: false, lastSeen: expect.any(Number) });
    await runInDurableObject(env.USERS.get(env.USERS.idFromName(username)), (instance: UserObject) => {
      expect(instance.reserveFileBytes("upload-1", 10, 1000)).toMatchObject({ ok: true });
    });
  });
});
