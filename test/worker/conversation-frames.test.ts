/**
 * The client frames of the conversation socket (PROTOCOL.md section 3.1): what each one does to
 * the stored state and who hears about it; who may change a message; the send rate limit.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Message } from "../../protocol";
import { api, closeAll, convSql, convStub, dm, eventSeqs, join, room, setLimits, signup, storedState, type TestClient, sendAll } from "./helpers";

/** Sends messages one after another and returns their seqs. */

/**
 * Something both sockets will see after every frame sent before it: when it arrives, the server
 * has handled everything earlier on the sender's socket (frames are handled in order).
 */
async function barrier(from: TestClient, ...watchers: TestClient[]): Promise<void> {
  const id = `barrier-${Math.random().toString(36).slice(2)}`;
  from.send({ t: "send", id, body: "barrier" });
  await Promise.all([from, ...watchers].map((c) => c.next("msg", (m) => m.id === id)));
}

async function pair() {
  const alice = await signup("alice");
  const bob = await signup("bob");
  const conv = await dm(alice, bob);
  const a = await join(conv.id, alice);
  const b = await join(conv.id, bob);
  return { alice, bob, conv, a, b };
}

describe("read", () => {
  it("moves the read mark forward only and broadcasts a receipt", async () => {
    const { bob, conv, a, b } = await pair();
    await sendAll(a, ["one", "two", "three"]);
    b.send({ t: "read", seq: 2 });
    expect(await a.next("receipt")).toEqual({ t: "receipt", username: bob.username, seq: 2 });
    expect(await b.next("receipt")).toEqual({ t: "receipt", username: bob.username, seq: 2 });
    // Backwards and repeated: nothing moves, nothing is broadcast.
    b.send({ t: "read", seq: 1 });
    b.send({ t: "read", seq: 2 });
    b.send({ t: "read", seq: 3 });
    await a.next("receipt", (r) => r.seq === 3);
    expect(a.of("receipt").map((r) => r.seq)).toEqual([2, 3]);
    // Beyond the end: clamped to the last seq, which it already is.
    b.send({ t: "read", seq: 999 });
    await barrier(b, a);
    expect(a.of("receipt").map((r) => r.seq)).toEqual([2, 3]);
    expect(await convSql(conv.id, "SELECT read_seq FROM members WHERE username = ?", bob.username)).toEqual([{ read_seq: 3 }]);
    // A new connection is told where everyone's mark is.
    const b2 = await join(conv.id, bob);
    expect(b2.of("welcome")[0]!.members.find((m) => m.username === bob.username)?.readSeq).toBe(3);
    expect(b2.of("welcome")[0]!.conv).toMatchObject({ readSeq: 3, unread: 0 });
    await closeAll(a, b, b2);
  });
});

describe("typing", () => {
  it("goes to the other members only and is not stored", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const carol = await signup("carol");
    const conv = await room(alice, [bob, carol]);
    const a = await join(conv.id, alice);
    const b = await join(conv.id, bob);
    const c = await join(conv.id, carol);
    const before = await storedState(conv.id);
    a.send({ t: "typing" });
    expect(await b.next("typing")).toEqual({ t: "typing", username: alice.username });
    expect(await c.next("typing")).toEqual({ t: "typing", username: alice.username });
    // Bob types too: alice hears bob; by then she would have heard her own, had it come back.
    b.send({ t: "typing" });
    await a.next("typing");
    await c.next("typing", (f) => f.username === bob.username);
    expect(a.of("typing")).toEqual([{ t: "typing", username: bob.username }]);
    expect(b.of("typing")).toEqual([{ t: "typing", username: alice.username }]);
    expect(await storedState(conv.id)).toBe(before);
    await closeAll(a, b, c);
  });
});

describe("history", () => {
  it("answers before/limit with messages in ascending seq and `more`", async () => {
    const { a, b } = await pair();
    const seqs = await sendAll(a, Array.from({ length: 10 }, (_, i) => `m${i + 1}`));
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const ask = async (frame: object): Promise<{ seqs: number[]; more: boolean }> => {
      const n = b.of("history").length;
      b.send({ t: "history", ...frame });
      await b.until((f) => f.filter((x) => x.t === "history").length === n + 1);
      const h = b.of("history")[n]!;
      return { seqs: h.messages.map((m) => m.seq), more: h.more };
    };
    expect(await ask({ before: 8, limit: 3 })).toEqual({ seqs: [5, 6, 7], more: true });
    expect(await ask({ before: 3, limit: 5 })).toEqual({ seqs: [1, 2], more: false });
    expect(await ask({ limit: 4 })).toEqual({ seqs: [7, 8, 9, 10], more: true });
    expect(await ask({})).toEqual({ seqs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], more: false });
    expect(await ask({ before: 1, limit: 10 })).toEqual({ seqs: [], more: false });
    expect(await ask({ limit: 500 })).toEqual({ seqs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], more: false });
    // Messages in their current state.
    a.send({ t: "edit", target: 4, body: "m4 edited" });
    a.send({ t: "delete", target: 5 });
    a.send({ t: "react", target: 6, emoji: "🎉", on: true });
    await b.next("react");
    b.send({ t: "history", before: 7, limit: 3 });
    await b.until((f) => f.filter((x) => x.t === "history").length === 7);
    const msgs = b.of("history")[6]!.messages;
    expect(msgs[0]).toMatchObject({ seq: 4, body: "m4 edited", edited: true });
    expect(msgs[1]).toMatchObject({ seq: 5, body: "", deleted: true });
    expect(msgs[2]).toMatchObject({ seq: 6, body: "m6", reactions: [{ emoji: "🎉", users: [a.of("welcome")[0]!.me] }] });
    await closeAll(a, b);
  });
});

describe("edit, delete and react", () => {
  it("edit and delete by the author only; others are refused and nothing changes", async () => {
    const { alice, conv, a, b } = await pair();
    const [target] = await sendAll(a, ["original text"]);
    const before = await storedState(conv.id);
    b.send({ t: "edit", target, body: "hijacked" });
    expect(await b.next("error")).toMatchObject({ code: "forbidden" });
    b.send({ t: "delete", target });
    await b.until((f) => f.filter((x) => x.t === "error").length === 2);
    expect(b.of("error")[1]).toMatchObject({ code: "forbidden" });
    expect(await storedState(conv.id)).toBe(before);

    a.send({ t: "edit", target, body: "corrected text" });
    const edit = await b.next("edit");
    expect(edit).toMatchObject({ t: "edit", seq: 2, target, body: "corrected text" });
    expect(await a.next("edit")).toEqual(edit);
    expect(await convSql(conv.id, "SELECT body, edited FROM messages WHERE seq = ?", target!)).toEqual([{ body: "corrected text", edited: 1 }]);

    // Unknown targets: not_found, for edit, delete and react alike.
    a.send({ t: "edit", target: 99, body: "x" });
    a.send({ t: "delete", target: 99 });
    a.send({ t: "react", target: 99, emoji: "👍", on: true });
    await a.until((f) => f.filter((x) => x.t === "error").length === 3);
    expect(a.of("error").map((e) => e.code)).toEqual(["not_found", "not_found", "not_found"]);
    expect(a.of("welcome")[0]!.me).toBe(alice.username);
    await closeAll(a, b);
  });

  it("delete erases the body from storage: messages, events (edits included) and the search index", async () => {
    const { bob, conv, a, b } = await pair();
    const [target] = await sendAll(a, ["the launch code is zebra42"]);
    await sendAll(a, ["an unrelated message"]);
    // Index now (normally a moment after the sends), so that the delete has index entries to erase.
    await runInDurableObject(convStub(conv.id), (instance) => instance.search.indexPending());
    a.send({ t: "edit", target, body: "the launch code is quokka77" });
    await b.next("edit");
    a.send({ t: "delete", target });
    const del = await b.next("delete");
    expect(del).toMatchObject({ t: "delete", seq: 4, target });
    await a.next("delete");

    const secrets = ["zebra42", "quokka77", "launch code"];
    for (const s of secrets) {
      const like = `%${s}%`;
      expect(await convSql(conv.id, "SELECT seq FROM messages WHERE body LIKE ?", like)).toEqual([]);
      expect(await convSql(conv.id, "SELECT seq FROM events WHERE body LIKE ?", like)).toEqual([]);
      expect(await convSql(conv.id, "SELECT rowid FROM messages_fts WHERE body LIKE ?", like)).toEqual([]);
      expect(await convSql(conv.id, "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", `"${s}"`)).toEqual([]);
    }
    expect(await convSql(conv.id, "SELECT body, deleted FROM messages WHERE seq = ?", target!)).toEqual([{ body: "", deleted: 1 }]);
    expect(await convSql(conv.id, "SELECT count(*) AS n FROM messages_fts")).toEqual([{ n: 1 }]);
    // Everything the FTS table keeps of its own: its content and its index segments, where the
    // trigram tokenizer stores each three-character piece of a body (most of them spelled out).
    const trigrams = ["zebra42", "quokka77"].flatMap((w) => [...w].slice(0, -2).map((_, i) => w.slice(i, i + 3)));
    const shadow = await convSql(conv.id, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'messages_fts_%'");
    expect(shadow.length).toBeGreaterThan(0);
    for (const { name } of shadow) {
      const rows = await convSql(conv.id, `SELECT * FROM "${String(name)}"`);
      const text = rows
        .flatMap((r) => Object.values(r).map((v) => (v instanceof ArrayBuffer ? new TextDecoder("latin1").decode(v) : String(v))))
        .join("\n");
      const left = trigrams.filter((t) => text.includes(t));
      expect(left, `${String(name)} still holds pieces of the deleted text`).toEqual([]);
    }
    // A replay shows the message as deleted, the edit without its body.
    const b2 = await join(conv.id, bob, { since: 0 });
    expect(b2.of("msg").find((m) => m.seq === target)).toMatchObject({ body: "", deleted: true });
    expect(b2.of("edit")[0]).toMatchObject({ target, body: "" });
    // Deleted messages cannot be edited, deleted again or reacted to.
    const before = await storedState(conv.id);
    a.send({ t: "edit", target, body: "back" });
    a.send({ t: "delete", target });
    a.send({ t: "react", target, emoji: "👍", on: true });
    await a.until((f) => f.filter((x) => x.t === "error").length === 3);
    expect(a.of("error").map((e) => e.code)).toEqual(["not_found", "not_found", "not_found"]);
    expect(await storedState(conv.id)).toBe(before);
    await closeAll(a, b, b2);
  });

  it("react on/off is idempotent: only a change is an event", async () => {
    const { alice, bob, conv, a, b } = await pair();
    const [target] = await sendAll(a, ["react to me"]);
    b.send({ t: "react", target, emoji: "👍", on: true });
    b.send({ t: "react", target, emoji: "👍", on: true });
    a.send({ t: "react", target, emoji: "👍", on: true });
    b.send({ t: "react", target, emoji: "❤️", on: true });
    b.send({ t: "react", target, emoji: "👍", on: false });
    b.send({ t: "react", target, emoji: "👍", on: false });
    b.send({ t: "react", target, emoji: "🙈", on: false });
    await barrier(b, a);
    const reacts = a.of("react").map((r) => [r.seq, r.from, r.emoji, r.on]);
    expect(reacts).toEqual([
      [2, bob.username, "👍", true],
      [3, alice.username, "👍", true],
      [4, bob.username, "❤️", true],
      [5, bob.username, "👍", false],
    ]);
    expect(eventSeqs(b.frames)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await convSql(conv.id, "SELECT emoji, username FROM reactions WHERE target = ? ORDER BY emoji, username", target!)).toEqual([
      { emoji: "❤️", username: bob.username },
      { emoji: "👍", username: alice.username },
    ]);
    const res = await api("GET", `/api/conversations/${conv.id}/messages?limit=10`, bob.token);
    const page = (await res.json()) as { messages: Message[] };
    const reactions = page.messages.find((m) => m.seq === target)!.reactions ?? [];
    expect(new Map(reactions.map((r) => [r.emoji, r.users]))).toEqual(new Map([["👍", [alice.username]], ["❤️", [bob.username]]]));
    await closeAll(a, b);
  });

  it("a reply to a missing message is refused with the frame's id; a reply to a real one is kept", async () => {
    const { conv, a, b } = await pair();
    const [first] = await sendAll(a, ["first"]);
    const before = await storedState(conv.id);
    a.send({ t: "send", id: "orphan", body: "reply to nothing", replyTo: 42 });
    expect(await a.next("error")).toMatchObject({ code: "not_found", id: "orphan" });
    expect(await storedState(conv.id)).toBe(before);
    // The id was not used up: the same id can carry a good reply.
    a.send({ t: "send", id: "orphan", body: "reply to first", replyTo: first });
    expect(await a.next("ack", (x) => x.id === "orphan")).toMatchObject({ seq: 2 });
    expect(await b.next("msg", (m) => m.id === "orphan")).toMatchObject({ replyTo: first, body: "reply to first" });
    await closeAll(a, b);
  });
});

describe("send rate limit", () => {
  it("keeps a user's send budget through eviction: rebuilt from the log, an empty bucket is still empty after a wake", async () => {
    const { alice, bob, conv, a, b } = await pair();
    // No refill to speak of, so the outcome depends on counts, not on the clock.
    const slow = { sendsPerSecond: 0.001, sendBurst: 3 };
    await setLimits(conv.id, slow);
    a.send({ t: "send", id: "e1", body: "one" });
    a.send({ t: "send", id: "e2", body: "two" });
    const second = (await a.next("ack", (x) => x.id === "e2")).seq;
    // An edit draws on the same budget, and the log has it too.
    a.send({ t: "edit", target: second, body: "two, edited" });
    await b.next("edit");
    await closeAll(a, b);
    await evictDurableObject(convStub(conv.id));
    // Limits set by a test live in memory: set them again after the wake.
    await setLimits(conv.id, slow);
    const a2 = await join(conv.id, alice);
    a2.send({ t: "send", id: "e3", body: "after the wake" });
    expect(await a2.next("error", (x) => x.id === "e3")).toMatchObject({ code: "rate_limited" });
    // Bob's budget is his own: untouched by alice's writes.
    const b2 = await join(conv.id, bob);
    b2.send({ t: "send", id: "b1", body: "bob" });
    expect(await b2.next("ack", (x) => x.id === "b1")).toMatchObject({ seq: second + 2 });
    expect((await convSql(conv.id, "SELECT client_id FROM messages ORDER BY seq")).map((r) => r.client_id)).toEqual(["e1", "e2", "b1"]);
    await closeAll(a2, b2);
  });

  it("past the burst: rate_limited with the frame's id, nothing stored; other users are not limited", async () => {
    const { conv, a, b } = await pair();
    // No refill to speak of, so the outcome depends on counts, not on the clock.
    await setLimits(conv.id, { sendsPerSecond: 0.001, sendBurst: 3 });
    for (let i = 1; i <= 5; i++) a.send({ t: "send", id: `r${i}`, body: `burst ${i}` });
    await a.until((f) => f.filter((x) => x.t === "ack" || x.t === "error").length === 5);
    expect(a.of("ack").map((x) => x.id)).toEqual(["r1", "r2", "r3"]);
    expect(a.of("error")).toEqual([
      expect.objectContaining({ code: "rate_limited", id: "r4" }),
      expect.objectContaining({ code: "rate_limited", id: "r5" }),
    ]);
    expect(await convSql(conv.id, "SELECT client_id FROM messages ORDER BY seq")).toEqual(["r1", "r2", "r3"].map((client_id) => ({ client_id })));
    // A refused frame may be resent: once there is room again, the same id goes through once.
    b.send({ t: "send", id: "bob-1", body: "bob is not limited by alice's bucket" });
    expect(await b.next("ack")).toMatchObject({ seq: 4 });
    await setLimits(conv.id, { sendsPerSecond: 1e6, sendBurst: 1e6 });
    a.send({ t: "send", id: "r4", body: "burst 4" });
    expect(await a.next("ack", (x) => x.id === "r4")).toMatchObject({ seq: 5 });
    // A resend of an already-acked id is answered as a dup even when rate limited.
    await setLimits(conv.id, { sendsPerSecond: 0.001, sendBurst: 1 });
    a.send({ t: "send", id: "r6", body: "takes the last token" });
    expect(await a.next("ack", (x) => x.id === "r6")).toMatchObject({ seq: 6 });
    a.send({ t: "send", id: "r7", body: "finds the bucket empty" });
    expect(await a.next("error", (x) => x.id === "r7")).toMatchObject({ code: "rate_limited" });
    a.send({ t: "send", id: "r1", body: "burst 1" });
    expect(await a.next("ack", (x) => x.id === "r1" && x.dup === true)).toMatchObject({ seq: 1 });
    await closeAll(a, b);
  });
});
