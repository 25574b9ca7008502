/**
 * Issue 12: every client frame kind has a budget per user and conversation (PROTOCOL.md 5, 7.5).
 * Each budget is tested at its edge (the last frame allowed passes, the next is refused) with a
 * refill too slow to matter, so outcomes depend on counts, not on the clock; then a hostile member
 * sending random valid frames at full speed is shown to leave the others' conversation intact.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { closeAll, convSql, eventSeqs, join, room, setLimits, signup, type Account, type TestClient } from "./helpers";

const SLOW = 0.001;

async function trio(): Promise<{ conv: string; a: TestClient; b: TestClient; alice: Account; bob: Account }> {
  const alice = await signup("alice");
  const bob = await signup("bob");
  const conv = (await room(alice, [bob])).id;
  return { conv, a: await join(conv, alice), b: await join(conv, bob), alice, bob };
}

async function ackedSeq(c: TestClient, id: string, body = id): Promise<number> {
  c.send({ t: "send", id, body });
  return (await c.next("ack", (f) => f.id === id)).seq;
}

const storedBy = async (conv: string, who: string) =>
  Number((await convSql(conv, "SELECT count(*) AS n FROM log WHERE actor = ? AND type IN ('msg', 'edit', 'delete', 'react')", who))[0]?.n);

describe("the write budget: send, edit, delete and react together", () => {
  it("the last frame within the burst is applied, the next of any kind is refused and stores nothing", async () => {
    const { conv, a, b, alice } = await trio();
    const [m1, m2] = [await ackedSeq(a, "m1"), await ackedSeq(a, "m2")];
    await setLimits(conv, { sendsPerSecond: SLOW, sendBurst: 4 });
    a.send({ t: "edit", target: m1, body: "edited" });
    a.send({ t: "react", target: m1, emoji: "👍", on: true });
    a.send({ t: "delete", target: m2 });
    a.send({ t: "send", id: "m3", body: "the fourth write" });
    await a.next("ack", (f) => f.id === "m3");
    const before = await storedBy(conv, alice.username);
    const over = [
      { t: "edit", target: m1, body: "again" },
      { t: "react", target: m1, emoji: "🎉", on: true },
      { t: "delete", target: m1 },
      { t: "send", id: "m4", body: "over" },
    ];
    for (const frame of over) a.send(frame);
    await a.until((f) => f.filter((x) => x.t === "error").length === over.length);
    const errors = a.of("error");
    expect(errors.map((e) => e.code)).toEqual(over.map(() => "rate_limited"));
    for (const [i, e] of errors.entries()) expect(e.message).toContain(over[i]!.t);
    expect(errors.at(-1)).toMatchObject({ id: "m4" });
    expect(await storedBy(conv, alice.username)).toBe(before);
    // Bob's budget is his own.
    await ackedSeq(b, "bob-1");
    await closeAll(a, b);
  });

  it("a frame refused for another reason (no such message) costs its error, not the budget", async () => {
    const { conv, a, b } = await trio();
    await setLimits(conv, { sendsPerSecond: SLOW, sendBurst: 1 });
    for (let i = 0; i < 5; i++) a.send({ t: "edit", target: 9999, body: "nothing there" });
    await a.until((f) => f.filter((x) => x.t === "error").length === 5);
    expect(new Set(a.of("error").map((e) => e.code))).toEqual(new Set(["not_found"]));
    await ackedSeq(a, "still-allowed");
    await closeAll(a, b);
  });
});

describe("the read budget: history, sync and read together", () => {
  it("the last request within the burst is answered, the next is refused", async () => {
    const { conv, a, b } = await trio();
    const seq = await ackedSeq(b, "x");
    await setLimits(conv, { readsPerSecond: SLOW, readBurst: 3 });
    a.send({ t: "history", limit: 10 });
    a.send({ t: "sync", since: 0 });
    a.send({ t: "read", seq });
    await a.next("receipt");
    await a.until((f) => f.filter((x) => x.t === "history").length === 1 && f.filter((x) => x.t === "synced").length === 2);
    for (const frame of [{ t: "history" }, { t: "sync", since: 0 }, { t: "read", seq }]) a.send(frame);
    await a.until((f) => f.filter((x) => x.t === "error").length === 3);
    expect(a.of("error").map((e) => e.code)).toEqual(["rate_limited", "rate_limited", "rate_limited"]);
    expect(a.of("history")).toHaveLength(1);
    await closeAll(a, b);
  });
});

describe("catching up is never refused half-way", () => {
  it("each `sync` that asks for the rest of a replay is free; a `sync` from anywhere else counts", async () => {
    const { conv, a, b, alice } = await trio();
    await setLimits(conv, { sendsPerSecond: 1e6, sendBurst: 1e6, backlog: 5 });
    for (let i = 0; i < 40; i++) await ackedSeq(b, `m${i}`);
    await setLimits(conv, { readsPerSecond: SLOW, readBurst: 1 });
    // A client that was away: 42 events at 5 per replay, so 8 follow-up syncs with a budget of 1.
    const back = await join(conv, alice, { since: 0 });
    let last = back.of("synced").at(-1)!;
    while (last.more) {
      back.send({ t: "sync", since: last.lastSeq });
      last = await back.next("synced", (f) => f.lastSeq > last.lastSeq);
    }
    expect(back.of("error")).toEqual([]);
    expect(last.lastSeq).toBe(42);
    // A sync that continues nothing draws from the budget: the first passes, the next is refused.
    back.send({ t: "sync", since: 0 });
    back.send({ t: "sync", since: 0 });
    await back.next("error", (f) => f.code === "rate_limited");
    await closeAll(a, b, back);
  });
});

describe("typing", () => {
  it("is relayed once per interval; the extra ones are dropped without an error", async () => {
    const { conv, a, b } = await trio();
    await setLimits(conv, { typingIntervalMs: 60_000 });
    for (let i = 0; i < 10; i++) a.send({ t: "typing" });
    // Frames reach each socket in order: once the message is here, every relayed typing is too.
    await ackedSeq(a, "after-typing");
    await b.next("msg", (f) => f.id === "after-typing");
    expect(b.of("typing")).toHaveLength(1);
    expect(a.of("error")).toEqual([]);
    await closeAll(a, b);
  });
});

/** One valid frame a hostile member might send; `target` picks one of the room's messages. */
const hostileFrame = fc.oneof(
  fc.record({ t: fc.constant("send"), id: fc.stringMatching(/^[a-z0-9]{1,8}$/).map((s) => `h-${s}`), body: fc.constant("spam") }),
  fc.record({ t: fc.constant("edit"), target: fc.nat(), body: fc.constant("spam edit") }),
  fc.record({ t: fc.constant("delete"), target: fc.nat() }),
  fc.record({ t: fc.constant("react"), target: fc.nat(), emoji: fc.constantFrom("👍", "🎉", "x"), on: fc.boolean() }),
  fc.record({ t: fc.constant("history"), limit: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ t: fc.constant("sync"), since: fc.nat({ max: 5 }) }),
  fc.record({ t: fc.constant("read"), seq: fc.nat({ max: 12 }) }),
  fc.constant({ t: "typing" }),
);

describe("a hostile member at full speed", () => {
  it("never breaks the others' conversation and stores no more than its budget allows", async () => {
    const alice = await signup("alice");
    const mallory = await signup("mal");
    const watcher = await signup("watch");
    await fc.assert(
      fc.asyncProperty(fc.array(hostileFrame, { minLength: 150, maxLength: 300 }), async (frames) => {
        const conv = (await room(alice, [mallory, watcher])).id;
        const [a, m, w] = [await join(conv, alice), await join(conv, mallory), await join(conv, watcher)];
        // Messages to aim at: Mallory's own (edits and deletes of them succeed) and Alice's.
        const targets: number[] = [];
        for (let i = 0; i < 3; i++) targets.push(await ackedSeq(m, `own-${i}`), await ackedSeq(a, `theirs-${i}`));
        const before = await storedBy(conv, mallory.username);
        const started = Date.now();
        for (const f of frames) {
          if (m.closeCode !== null) break;
          m.send("target" in f ? { ...f, target: targets[f.target % targets.length] } : f);
        }
        // Alice keeps talking meanwhile: every one of her messages reaches the watcher, in order.
        const mine: number[] = [];
        for (let i = 0; i < 5; i++) mine.push(await ackedSeq(a, `alice-${i}`));
        await w.until((got) => got.some((x) => x.t === "msg" && x.id === "alice-4"));
        const elapsed = (Date.now() - started) / 1000;
        const seen = eventSeqs(w.frames);
        expect(seen).toEqual(seen.map((_, i) => seen[0]! + i));
        for (const s of mine) expect(seen).toContain(s);
        // Writes are the burst plus what the rate refilled while it ran (one more for rounding).
        const budget = 20 + 10 * elapsed + 1;
        expect((await storedBy(conv, mallory.username)) - before).toBeLessThanOrEqual(budget);
        expect(w.closeCode).toBeNull();
        expect(a.closeCode).toBeNull();
        await closeAll(a, m, w);
      }),
      { numRuns: 6, endOnFailure: true },
    );
  }, 120_000);
});
