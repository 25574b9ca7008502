/**
 * PROTOCOL.md section 4, the delivery promises, checked on real frames and real stored state:
 * one gap-free order for everyone, idempotent resends, nothing acknowledged ever lost, exact
 * resumption, and the backlog cap.
 */
import { abortAllDurableObjects, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createCodec, DEFAULT_LIMITS, SUBPROTOCOL_MSGPACK, SUBPROTOCOLS, type MsgFrame, type Subprotocol } from "../../protocol";
import { IDENTITY_HEADERS } from "../../worker/identity";
import {
  api,
  closeAll,
  connect,
  convSql,
  convStub,
  dm,
  eventSeqs,
  isEvent,
  join,
  range,
  room,
  setLimits,
  sessionOf,
  signup,
  type TestClient,
} from "./helpers";

const UNLIMITED = { sendsPerSecond: 1e6, sendBurst: 1e6 };

/** Generous: the machine is shared, and only a broken promise should fail these tests. */
const SLOW = 90_000;

/** Waits until the client has seen the event `seq` (events come in order, so all before it too). */
function upTo(c: TestClient, seq: number): Promise<void> {
  return c.until((frames) => frames.some((f) => isEvent(f) && f.seq === seq), SLOW);
}

function acks(c: TestClient, n: number): Promise<void> {
  return c.until((frames) => frames.filter((x) => x.t === "ack").length === n, SLOW);
}

describe("one order, no gaps (promise 2)", () => {
  it("1 000 interleaved sends from 5 sockets: acks and msg seqs are exactly 1..N, same order everywhere", async () => {
    const owner = await signup("own");
    const others = [await signup("m1"), await signup("m2"), await signup("m3"), await signup("m4")];
    const conv = await room(owner, others);
    const people = [owner, ...others];
    // Room creation and four invitations: member events 1..5.
    const first = 6;
    const sockets: TestClient[] = [];
    // Every codec in one room: each frame is encoded once per codec and must reach every kind.
    for (const [k, p] of people.entries()) sockets.push(await join(conv.id, p, { since: 0, protocol: SUBPROTOCOLS[k % SUBPROTOCOLS.length] }));
    await setLimits(conv.id, UNLIMITED);

    const perSocket = 200;
    const total = perSocket * sockets.length;
    const last = first + total - 1;
    // Interleaved, nothing awaited: every socket's frames are in flight at once.
    for (let i = 0; i < perSocket; i++) {
      for (const [k, s] of sockets.entries()) s.send({ t: "send", id: `s${k}-${i}`, body: `message ${i} from socket ${k}` });
    }
    await Promise.all(sockets.map((s) => upTo(s, last)));
    await Promise.all(sockets.map((s) => acks(s, perSocket)));

    const reference = sockets[0]!.of("msg").map((m) => `${m.seq}:${m.from}:${m.id}`);
    expect(reference).toHaveLength(total);
    for (const [k, s] of sockets.entries()) {
      // Every event of the log, once, ascending, with no gap: the member events then the messages.
      expect(eventSeqs(s.frames)).toEqual(range(1, last));
      // The same order on every socket.
      expect(s.of("msg").map((m) => `${m.seq}:${m.from}:${m.id}`)).toEqual(reference);
      // Each of my sends acknowledged once, with the seq everyone saw for it, in the order sent.
      const acks = s.of("ack");
      expect(acks.map((a) => a.id)).toEqual(range(0, perSocket - 1).map((i) => `s${k}-${i}`));
      expect(acks.every((a) => a.dup === undefined)).toBe(true);
      const seqOf = new Map(s.of("msg").filter((m) => m.from === people[k]!.username).map((m) => [m.id, m.seq]));
      for (const a of acks) expect(a.seq).toBe(seqOf.get(a.id));
      const ackSeqs = acks.map((a) => a.seq);
      expect([...ackSeqs].sort((x, y) => x - y)).toEqual(ackSeqs);
      expect(s.of("error")).toEqual([]);
    }
    // All acks together: every message seq exactly once.
    const allAcked = sockets.flatMap((s) => s.of("ack").map((a) => a.seq)).sort((x, y) => x - y);
    expect(allAcked).toEqual(range(first, last));

    // What is stored is what was delivered.
    const [stored] = await convSql(conv.id, "SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM messages");
    expect(stored).toEqual({ n: total, lo: first, hi: last });
    const [events] = await convSql(conv.id, "SELECT count(*) AS n, max(seq) AS hi FROM log");
    expect(events).toEqual({ n: last, hi: last });
    await closeAll(...sockets);
  }, 2 * SLOW);
});

describe("resending the same id (promise 4 and 6)", () => {
  it("three sends with one id: one message, the same seq acked three times, dup on the 2nd and 3rd, one msg", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    const b = await join(conv.id, bob);
    for (let i = 0; i < 3; i++) a.send({ t: "send", id: "same-id", body: `attempt ${i}` });
    await a.until((f) => f.filter((x) => x.t === "ack").length === 3);
    const acks = a.of("ack");
    expect(acks.map((x) => [x.id, x.seq])).toEqual([["same-id", 1], ["same-id", 1], ["same-id", 1]]);
    expect(acks.map((x) => x.dup)).toEqual([undefined, true, true]);
    expect(acks[1]!.ts).toBe(acks[0]!.ts);

    // A later message is seq 2: the repeats took no seq; and it proves the msg broadcasts are all in.
    a.send({ t: "send", id: "next", body: "next" });
    await b.next("msg", (m) => m.id === "next");
    await a.next("msg", (m) => m.id === "next");
    expect(b.of("msg").map((m) => [m.seq, m.id, m.body])).toEqual([[1, "same-id", "attempt 0"], [2, "next", "next"]]);
    expect(a.of("msg").map((m) => m.seq)).toEqual([1, 2]);

    expect(await convSql(conv.id, "SELECT seq, client_id, body FROM messages ORDER BY seq")).toEqual([
      { seq: 1, client_id: "same-id", body: "attempt 0" },
      { seq: 2, client_id: "next", body: "next" },
    ]);
    expect(await convSql(conv.id, "SELECT seq, type FROM log ORDER BY seq")).toEqual([
      { seq: 1, type: "msg" },
      { seq: 2, type: "msg" },
    ]);

    // The id is the sender's own: someone else may use the same one for their own message.
    b.send({ t: "send", id: "same-id", body: "bob's" });
    expect(await b.next("ack", (x) => x.id === "same-id")).toMatchObject({ seq: 3 });
    expect((await b.next("ack")).dup).toBeUndefined();

    // A resend on a new socket of the same user, after reconnecting, is still the same message.
    await closeAll(a);
    const a2 = await join(conv.id, alice);
    a2.send({ t: "send", id: "same-id", body: "attempt after reconnect" });
    expect(await a2.next("ack")).toMatchObject({ id: "same-id", seq: 1, dup: true });
    a2.send({ t: "send", id: "probe", body: "probe" });
    await b.next("msg", (m) => m.id === "probe");
    expect(b.of("msg").map((m) => m.id)).toEqual(["same-id", "next", "same-id", "probe"]);
    await closeAll(a2, b);
  });
});

describe("nothing acknowledged is lost (promise 1)", () => {
  it("an acked message survives eviction: replay, history, the seq counter and dup detection", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    a.send({ t: "send", id: "before-evict", body: "kept through eviction" });
    expect(await a.next("ack")).toMatchObject({ id: "before-evict", seq: 1 });

    await evictDurableObject(convStub(conv.id));

    // A fresh socket replays it from storage.
    const b = await join(conv.id, bob, { since: 0 });
    expect(b.of("msg").map((m) => [m.seq, m.id, m.body])).toEqual([[1, "before-evict", "kept through eviction"]]);
    // The hibernated socket still works; the counter continues from storage, and the id is still known.
    a.send({ t: "send", id: "before-evict", body: "resent" });
    expect(await a.next("ack", (x) => x.dup === true)).toMatchObject({ seq: 1 });
    a.send({ t: "send", id: "after-evict", body: "second" });
    expect(await a.next("ack", (x) => x.id === "after-evict")).toMatchObject({ seq: 2 });
    const res = await api("GET", `/api/conversations/${conv.id}/messages`, bob.token);
    expect(((await res.json()) as { messages: MsgFrame[] }).messages.map((m) => m.body)).toEqual(["kept through eviction", "second"]);
    await closeAll(a, b);
  });

  it("an acked message survives an abort of every object: reconnect, replay and history still have it", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    const b = await join(conv.id, bob);
    a.send({ t: "send", id: "m1", body: "acked before the crash" });
    const ack = await a.next("ack");
    expect(ack).toMatchObject({ id: "m1", seq: 1 });

    await abortAllDurableObjects();
    // The sockets die with the object (the runtime may or may not deliver a close frame first).
    await Promise.all([a.closed().catch(() => 0), b.closed().catch(() => 0)]);

    const b2 = await join(conv.id, bob, { since: 0 });
    expect(b2.of("msg")).toEqual([expect.objectContaining({ seq: 1, id: "m1", body: "acked before the crash", ts: ack.ts })]);
    const a2 = await join(conv.id, alice);
    // Resending after the crash is safe: the same message, not a second one.
    a2.send({ t: "send", id: "m1", body: "acked before the crash" });
    expect(await a2.next("ack")).toMatchObject({ id: "m1", seq: 1, dup: true });
    a2.send({ t: "send", id: "m2", body: "after" });
    expect(await a2.next("ack", (x) => x.id === "m2")).toMatchObject({ seq: 2 });
    const res = await api("GET", `/api/conversations/${conv.id}/messages`, alice.token);
    expect(((await res.json()) as { messages: MsgFrame[] }).messages.map((m) => m.id)).toEqual(["m1", "m2"]);
    await closeAll(a2, b2);
  });
});

describe("resuming with since (promise 3 and 5)", () => {
  it("five disconnect/resume cycles in a row each deliver exactly what was missed, nothing twice", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    await setLimits(conv.id, UNLIMITED);
    const a = await join(conv.id, alice);
    let sent = 0;
    let held = 0;
    let b = await join(conv.id, bob, { since: 0 });
    const seen: number[] = [];
    let resumedFrom = 0;
    for (let cycle = 1; cycle <= 5; cycle++) {
      b.close();
      await b.closed();
      // Messages, an edit and a reaction while bob is away: every kind of event must come back.
      for (let i = 0; i < cycle * 3; i++) a.send({ t: "send", id: `c${cycle}-${i}`, body: `cycle ${cycle} #${i}` });
      await acks(a, sent + cycle * 3);
      sent += cycle * 3;
      const lastAck = a.of("ack").at(-1)!.seq;
      a.send({ t: "edit", target: lastAck, body: `edited in cycle ${cycle}` });
      a.send({ t: "react", target: lastAck, emoji: "👍", on: true });
      await a.until((f) => f.some((x) => x.t === "react" && x.target === lastAck));
      const lastSeq = lastAck + 2;

      b = await connect(`/chat/${conv.id}`, bob, { since: held });
      const synced = await b.next("synced");
      expect(synced).toEqual({ t: "synced", lastSeq, more: false });
      const got = eventSeqs(b.frames);
      // Exactly the events after `held`, in order: nothing older, nothing twice, nothing missing.
      expect(got).toEqual(range(held + 1, lastSeq));
      expect(b.frames[0]!.t).toBe("welcome");
      expect(b.frames.at(-1)!.t).toBe("synced");
      const edit = b.of("edit")[0]!;
      expect(edit).toMatchObject({ target: lastAck, body: `edited in cycle ${cycle}` });
      // A replayed message is in its current state (edited); the edit event comes too.
      expect(b.of("msg").find((m) => m.seq === lastAck)).toMatchObject({ body: `edited in cycle ${cycle}`, edited: true });
      seen.push(...got);
      resumedFrom = held;
      held = lastSeq;
    }
    expect(seen).toEqual(range(1, held));
    // Live traffic after the last resume still arrives once, right after the replay.
    a.send({ t: "send", id: "live", body: "live" });
    expect(await b.next("msg", (m) => m.id === "live")).toMatchObject({ seq: held + 1 });
    expect(eventSeqs(b.frames)).toEqual(range(resumedFrom + 1, held + 1));
    await closeAll(a, b);
  }, SLOW);

  it("without since the client starts from now: welcome then synced, no replay", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    a.send({ t: "send", id: "old", body: "old" });
    await a.next("ack");
    const b = await join(conv.id, bob);
    expect(b.frames.map((f) => f.t)).toEqual(["welcome", "synced"]);
    expect(b.of("synced")[0]).toEqual({ t: "synced", lastSeq: 1, more: false });
    expect(b.of("welcome")[0]!.conv).toMatchObject({ id: conv.id, lastSeq: 1, unread: 1 });
    await closeAll(a, b);
  });

  it.each<Subprotocol>(SUBPROTOCOLS)("more than 200 missed events: 200, synced.more, then sync delivers the rest (%s)", async (protocol) => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    await setLimits(conv.id, UNLIMITED);
    const a = await join(conv.id, alice);
    const total = 263;
    for (let i = 1; i <= total; i++) a.send({ t: "send", id: `m${i}`, body: `message ${i}` });
    await acks(a, total);

    const b = await connect(`/chat/${conv.id}`, bob, { since: 0, protocol });
    const first = await b.next("synced");
    expect(first).toEqual({ t: "synced", lastSeq: 200, more: true });
    expect(eventSeqs(b.frames)).toEqual(range(1, 200));

    b.send({ t: "sync", since: 200 });
    await b.until((f) => f.filter((x) => x.t === "synced").length === 2);
    expect(b.of("synced")[1]).toEqual({ t: "synced", lastSeq: total, more: false });
    expect(eventSeqs(b.frames)).toEqual(range(1, total));
    expect(b.of("msg").map((m) => m.id)).toEqual(range(1, total).map((i) => `m${i}`));

    // A sync from the middle gives exactly what follows.
    b.send({ t: "sync", since: total - 2 });
    await b.until((f) => f.filter((x) => x.t === "synced").length === 3);
    expect(eventSeqs(b.frames).slice(total)).toEqual([total - 1, total]);
    await closeAll(a, b);
  }, SLOW);

  it("since greater than the conversation's last seq: synced.reset, and no events", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    a.send({ t: "send", id: "m1", body: "one" });
    await a.next("ack");
    const b = await connect(`/chat/${conv.id}`, bob, { since: 50 });
    expect(await b.next("synced")).toEqual({ t: "synced", lastSeq: 1, more: false, reset: true });
    expect(eventSeqs(b.frames)).toEqual([]);
    // The socket still works: a sync from 0 then replays the log.
    b.send({ t: "sync", since: 0 });
    await b.until((f) => f.filter((x) => x.t === "synced").length === 2);
    expect(eventSeqs(b.frames)).toEqual([1]);
    await closeAll(a, b);
  });
});

describe("a write that fails half-way", () => {
  it("stores nothing of it, so the log keeps no hole", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    a.send({ t: "send", id: "first", body: "one" });
    expect((await a.next("ack", (f) => f.id === "first")).seq).toBe(1);
    // The message row cannot be written: the event row must not stay behind.
    await runInDurableObject(convStub(conv.id), (_i, state) => {
      state.storage.sql.exec("CREATE TRIGGER fail_msg BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    });
    a.send({ t: "send", id: "second", body: "two" });
    expect(await a.next("error", (f) => f.id === undefined || f.id === "second")).toMatchObject({ code: "internal" });
    await runInDurableObject(convStub(conv.id), (_i, state) => {
      state.storage.sql.exec("DROP TRIGGER fail_msg");
    });
    a.send({ t: "send", id: "second", body: "two" });
    expect((await a.next("ack", (f) => f.id === "second")).seq).toBe(2);
    const replay = await join(conv.id, bob, { since: 0 });
    expect(replay.of("msg").map((m) => m.seq)).toEqual([1, 2]);
    a.close();
    replay.close();
  });

  it("leaves no copy in memory ahead of storage: the notifier's cursor moved in a rolled-back write is read again", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    await runInDurableObject(convStub(conv.id), (instance) => {
      const stored = instance.notifier.cursor();
      expect(() =>
        instance.store.atomic(() => {
          instance.notifier.advanceTo(stored + 1000);
          throw new Error("fails after the cursor moved");
        }),
      ).toThrow("fails after the cursor moved");
      expect(instance.notifier.cursor()).toBe(stored);
    });
  });
});

describe("a socket's first frame", () => {
  it("is its welcome, even when live events were queued for the others as it connected", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const b = await join(conv.id, bob);
    b.send({ t: "send", id: "first", body: "first" });
    const { seq } = await b.next("ack");
    // A live event waits in the queue for the end of the turn; in that same turn a new socket is
    // accepted: the event is queued as the session check answers, right before the accept (the
    // upgrade is handed to the object directly, as the Worker would).
    const first = await runInDurableObject(convStub(conv.id), async (instance) => {
      const object = instance as unknown as { admission: (...args: unknown[]) => Promise<unknown> };
      const admission = object.admission.bind(instance);
      object.admission = async (...args) => {
        const refused = await admission(...args);
        instance.broadcastAll([{ t: "receipt", username: bob.username, seq }]);
        return refused;
      };
      const headers = { Upgrade: "websocket", [IDENTITY_HEADERS.user]: alice.username, [IDENTITY_HEADERS.session]: sessionOf(alice) };
      const res = await instance.fetch(new Request(`https://chat.test/chat/${conv.id}?since=0`, { headers }));
      const ws = res.webSocket!;
      const got: string[] = [];
      const codec = createCodec(SUBPROTOCOL_MSGPACK, DEFAULT_LIMITS);
      (ws as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
      ws.addEventListener("message", (ev) => {
        for (const f of codec.decodeAll(ev.data as ArrayBuffer)) got.push((f as { t: string }).t);
      });
      ws.accept();
      await new Promise((r) => setTimeout(r, 50));
      ws.close();
      return got;
    });
    expect(first[0]).toBe("welcome");
    // The queued receipt went to the sockets that were open, not to the new one.
    expect(first).not.toContain("receipt");
    await b.next("receipt");
    b.close();
  });
});
