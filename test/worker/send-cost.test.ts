/**
 * What a send costs in storage (issue 17): one durable write, the message's own row, whoever
 * watches; and the log's format change (messages as their own events) read right in objects made
 * before it.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { asOlderObject, closeAll, convSql, convStub, dm, join, room, sendAll, signup, watchedDm } from "./helpers";

const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;
/**
 * The notifier's cursor is written 2 s after a round moves it, in a turn of its own, one commit
 * for every round meanwhile (notify.ts): never a send's write, but a slow run could see it land
 * inside the window recorded here.
 */
const sendWrites = (statements: string[]) => statements.filter((q) => WRITE.test(q) && !/\bnotify_cursor\b/.test(q));

/** Records every statement the conversation object runs until `stop` is called. */
async function recordStatements(conv: string): Promise<() => Promise<string[]>> {
  await runInDurableObject(convStub(conv), (_instance, state) => {
    const sql = state.storage.sql as SqlStorage & { recorded?: string[]; original?: SqlStorage["exec"] };
    sql.recorded = [];
    sql.original = sql.exec;
    sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
      sql.recorded?.push(query);
      return sql.original!.call(sql, query, ...bindings);
    }) as SqlStorage["exec"];
  });
  return () =>
    runInDurableObject(convStub(conv), (_instance, state) => {
      const sql = state.storage.sql as SqlStorage & { recorded?: string[]; original?: SqlStorage["exec"] };
      const recorded = sql.recorded ?? [];
      if (sql.original) sql.exec = sql.original;
      delete sql.recorded;
      delete sql.original;
      return recorded;
    });
}

describe("a send's durable writes", () => {
  it("in a DM, with the other person's inbox open: one, the message's row", async () => {
    const { conv, inbox, a } = await watchedDm();
    // A first message wakes whatever is lazily read (budgets rebuilt from the log, cursors).
    a.send({ t: "send", id: "warm", body: "hello" });
    await a.next("ack", (f) => f.id === "warm");
    await inbox.next("activity", (f) => f.conv === conv.id);

    const stop = await recordStatements(conv.id);
    for (let i = 0; i < 5; i++) a.send({ t: "send", id: `m${i}`, body: `message ${i}` });
    await a.next("ack", (f) => f.id === "m4");
    // The notifier's round for them reached bob's inbox: its cost is counted too.
    await inbox.until((frames) => frames.some((f) => f.t === "activity" && f.conv === conv.id && f.seq === 6));
    const writes = sendWrites(await stop());
    expect(writes).toHaveLength(5);
    expect(writes.every((q) => /INSERT INTO messages\b/.test(q))).toBe(true);
    await closeAll(a, inbox);
  });

  it("in a room nobody watches: one per message as well", async () => {
    const owner = await signup("owner");
    const members = await Promise.all([signup("m1"), signup("m2")]);
    const conv = await room(owner, members);
    const a = await join(conv.id, owner);
    a.send({ t: "send", id: "warm", body: "hello" });
    await a.next("ack", (f) => f.id === "warm");
    const stop = await recordStatements(conv.id);
    for (let i = 0; i < 3; i++) a.send({ t: "send", id: `r${i}`, body: `message ${i}` });
    await a.next("ack", (f) => f.id === "r2");
    const writes = sendWrites(await stop());
    expect(writes).toHaveLength(3);
    await closeAll(a);
  });
});

describe("objects made before messages were their own events", () => {
  it("replay each message once, keep their seqs, and drop the old rows on the next wake", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    for (const id of ["o1", "o2"]) {
      a.send({ t: "send", id, body: id });
      await a.next("ack", (f) => f.id === id);
    }
    await closeAll(a);
    // The old format: a `msg` row in `events` beside each message, and no format mark in `meta`.
    await runInDurableObject(convStub(conv.id), (_instance, state) => {
      state.storage.sql.exec("INSERT INTO events (seq, type, ts, actor) SELECT seq, 'msg', ts, sender FROM messages");
      state.storage.sql.exec("DELETE FROM meta WHERE k = 'log'");
      asOlderObject(state.storage.sql);
    });
    await evictDurableObject(convStub(conv.id));

    const b = await join(conv.id, bob, { since: 0 });
    expect(b.of("msg").map((m) => [m.seq, m.id])).toEqual([[1, "o1"], [2, "o2"]]);
    b.send({ t: "send", id: "o3", body: "after" });
    expect((await b.next("ack", (f) => f.id === "o3")).seq).toBe(3);
    expect(await convSql(conv.id, "SELECT count(*) AS n FROM events WHERE type = 'msg'")).toEqual([{ n: 0 }]);
    expect(await convSql(conv.id, "SELECT seq, type FROM log ORDER BY seq")).toEqual([1, 2, 3].map((seq) => ({ seq, type: "msg" })));
    await closeAll(b);
  });
});

describe("unread counts kept between welcomes", () => {
  it("stay exact as messages arrive, are deleted and are read", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    const unread = async () => {
      const b = await join(conv.id, bob);
      const n = (await b.next("welcome")).conv.unread;
      await closeAll(b);
      return n;
    };
    const seqs = await sendAll(a, ["one", "two", "three"]);
    expect(await unread()).toBe(3);
    await sendAll(a, ["four"]);
    expect(await unread()).toBe(4);
    // A deletion lowers a count computed before it.
    a.send({ t: "delete", target: seqs[1]! });
    await a.next("delete");
    expect(await unread()).toBe(3);
    // Bob reads up to "three": only "four" is left.
    const b = await join(conv.id, bob);
    b.send({ t: "read", seq: seqs[2]! });
    await a.next("receipt", (r) => r.username === bob.username);
    await closeAll(b);
    expect(await unread()).toBe(1);
    // Bob's own messages never count for him.
    const b2 = await join(conv.id, bob);
    await sendAll(b2, ["from bob"]);
    await closeAll(b2);
    expect(await unread()).toBe(1);
    await closeAll(a);
  });
});
