/**
 * Issue 17: what a `send` costs, and that a cheaper send keeps every promise of a resend
 * (PROTOCOL.md 4: a resent id is answered with its stored ack, `dup`, and stores nothing). A new
 * message is one statement, its insert: the unique index on (sender, client id) finds a resend
 * in the insert itself, and who is blocked in a DM is known without a query per message. A resend
 * is looked up only when the insert found it or the send was refused, and it costs no budget.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../protocol";
import type { ConversationObject } from "../../worker/conversation";
import { Codecs, readAttachment } from "../../worker/sockets";
import { api, closeAll, convSql, convStub, dm, join, room, setLimits, signup, statementsDuring } from "./helpers";
import { uploaded } from "./files-helpers";

const SLOW = 0.001;

describe("a send's statements", () => {
  it("a new message in a DM runs one statement, its insert; a resend one look-up more and no write", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ann, ben);
    const [a, b] = [await join(d.id, ann), await join(d.id, ben)];
    // The first send of a woken object reads what it keeps in memory (members, the last seq, blocks).
    a.send({ t: "send", id: "warm", body: "warm" });
    await a.next("ack", (f) => f.id === "warm");
    const messageStatements = /\bmessages\b|\bblocks\b/;
    const fresh = await statementsDuring(convStub(d.id), async () => {
      a.send({ t: "send", id: "new", body: "a new message" });
      await b.next("msg", (m) => m.id === "new");
    }, messageStatements);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatch(/^INSERT INTO messages\b/);

    const resent = await statementsDuring(convStub(d.id), async () => {
      a.send({ t: "send", id: "new", body: "a new message" });
      expect(await a.next("ack", (f) => f.id === "new" && f.dup === true)).toMatchObject({ seq: 2 });
    }, messageStatements);
    expect(resent.map((q) => q.split(/\s+/).slice(0, 2).join(" "))).toEqual(["INSERT INTO", "SELECT seq,"]);
    expect(await convSql(d.id, "SELECT client_id FROM messages ORDER BY seq")).toEqual([{ client_id: "warm" }, { client_id: "new" }]);
    await closeAll(a, b);
  });
});

/**
 * Records how the object's message inserts were committed while `during` runs: each group is the
 * inserts of one transaction (store.atomic), or a lone insert outside any (its own commit).
 */
async function insertGroups(convId: string, during: () => Promise<void>): Promise<number[]> {
  const groups: number[] = [];
  let inTransaction = false;
  await runInDurableObject(convStub(convId), (_i, state) => {
    const { sql } = state.storage;
    const exec = sql.exec;
    const transactionSync = state.storage.transactionSync;
    sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
      if (/^INSERT INTO messages\b/.test(query)) {
        if (inTransaction) groups[groups.length - 1]!++;
        else groups.push(1);
      }
      return exec.call(sql, query, ...bindings);
    }) as SqlStorage["exec"];
    state.storage.transactionSync = (<T>(fn: () => T): T => {
      inTransaction = true;
      groups.push(0);
      try {
        return transactionSync.call(state.storage, fn) as T;
      } finally {
        inTransaction = false;
        if (groups.at(-1) === 0) groups.pop();
      }
    }) as DurableObjectStorage["transactionSync"];
  });
  try {
    await during();
  } finally {
    await runInDurableObject(convStub(convId), (_i, state) => {
      Reflect.deleteProperty(state.storage.sql, "exec");
      Reflect.deleteProperty(state.storage, "transactionSync");
    });
  }
  return groups;
}

/**
 * Hands frames to the object as the runtime does when several arrive before a timer fires: one
 * webSocketMessage after the other, in one turn, each on a socket of its sender.
 */
async function deliverTogether(convId: string, frames: { from: string; frame: object }[], then?: (instance: ConversationObject) => void): Promise<void> {
  await runInDurableObject(convStub(convId), async (instance, state) => {
    const codecs = new Codecs(DEFAULT_LIMITS);
    for (const { from, frame } of frames) {
      const ws = state.getWebSockets(from)[0]!;
      const data = codecs.for(readAttachment(ws)!.proto).encode(frame);
      await instance.webSocketMessage(ws, typeof data === "string" ? data : data.slice().buffer);
    }
    // Still in the same turn: before the batch's timer.
    then?.(instance);
  });
}

describe("group commit", () => {
  it("sends that arrive together are stored together: one transaction, acks and seqs in order", async () => {
    const [alice, bob, carol] = [await signup("alice"), await signup("bob"), await signup("carol")];
    const conv = (await room(alice, [bob, carol])).id;
    await setLimits(conv, { sendsPerSecond: 1e6, sendBurst: 1e6 });
    const [a, b, c] = [await join(conv, alice), await join(conv, bob), await join(conv, carol)];
    const frames: { from: string; frame: object }[] = [];
    for (let i = 0; i < 10; i++) {
      frames.push({ from: alice.username, frame: { t: "send", id: `a${i}`, body: `from alice ${i}` } });
      frames.push({ from: bob.username, frame: { t: "send", id: `b${i}`, body: `from bob ${i}` } });
    }
    // A resend racing its original into the same batch: one message, and the ack again.
    frames.push({ from: alice.username, frame: { t: "send", id: "a0", body: "from alice 0" } });
    const groups = await insertGroups(conv, async () => {
      await deliverTogether(conv, frames);
      await c.until((f) => f.filter((x) => x.t === "msg").length === 20);
      await a.until((f) => f.filter((x) => x.t === "ack").length === 11);
    });
    // One transaction for the 21 (each insert alone would be a commit of its own: 21 groups).
    expect(groups).toEqual([21]);
    const seqs = c.of("msg").map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => seqs[0]! + i));
    // The messages in the order they arrived, and every ack names the seq everyone saw.
    expect(c.of("msg").map((m) => m.id)).toEqual(frames.slice(0, 20).map((f) => (f.frame as { id: string }).id));
    const bySeq = new Map(c.of("msg").map((m) => [m.id, m.seq]));
    for (const ack of [...a.of("ack"), ...b.of("ack")]) expect(ack.seq).toBe(bySeq.get(ack.id));
    expect(a.of("ack").filter((x) => x.dup === true).map((x) => x.id)).toEqual(["a0"]);
    expect((await convSql(conv, "SELECT count(*) AS n FROM messages"))[0]!.n).toBe(20);
    await closeAll(a, b, c);
  });

  it("a send checked before its sender left is not stored after: error forbidden, by id", async () => {
    const [alice, bob] = [await signup("alice"), await signup("bob")];
    const conv = (await room(alice, [bob])).id;
    const [a, b] = [await join(conv, alice), await join(conv, bob)];
    const before = (await convSql(conv, "SELECT count(*) AS n FROM messages"))[0]!.n;
    await deliverTogether(conv, [{ from: bob.username, frame: { t: "send", id: "late", body: "bye" } }], (instance) => {
      instance.store.removeMember(bob.username);
    });
    expect(await b.next("error", (f) => f.id === "late")).toMatchObject({ code: "forbidden" });
    expect((await convSql(conv, "SELECT count(*) AS n FROM messages"))[0]!.n).toBe(before);
    expect(a.of("msg")).toEqual([]);
    await closeAll(a, b);
  });

  it("a batch that fails stores none of it and tells each sender, by id; a resend is stored", async () => {
    const [alice, bob] = [await signup("alice"), await signup("bob")];
    const conv = (await room(alice, [bob])).id;
    const [a, b] = [await join(conv, alice), await join(conv, bob)];
    const before = (await convSql(conv, "SELECT count(*) AS n FROM messages"))[0]!.n;
    await runInDurableObject(convStub(conv), (instance) => {
      let calls = 0;
      const insert = instance.store.insertMessage.bind(instance.store);
      instance.store.insertMessage = (...args: Parameters<typeof insert>) => {
        if (++calls === 2) throw new Error("disk full");
        return insert(...args);
      };
    });
    await deliverTogether(conv, [
      { from: alice.username, frame: { t: "send", id: "x1", body: "one" } },
      { from: bob.username, frame: { t: "send", id: "y1", body: "two" } },
    ]);
    const errors = [await a.next("error", (f) => f.id === "x1"), await b.next("error", (f) => f.id === "y1")];
    for (const e of errors) expect(e).toMatchObject({ code: "internal", message: "internal error" });
    // The first insert of the batch went with the transaction.
    expect((await convSql(conv, "SELECT count(*) AS n FROM messages"))[0]!.n).toBe(before);
    expect(a.of("ack")).toEqual([]);
    a.send({ t: "send", id: "x1", body: "one" });
    expect((await a.next("ack", (f) => f.id === "x1")).dup).toBeUndefined();
    await b.next("msg", (m) => m.id === "x1");
    await runInDurableObject(convStub(conv), (instance) => {
      Reflect.deleteProperty(instance.store, "insertMessage");
    });
    await closeAll(a, b);
  });
});

describe("a resend", () => {
  it("costs no send budget: resends of stored ids leave the burst to new messages", async () => {
    const [alice, bob] = [await signup("alice"), await signup("bob")];
    const conv = (await room(alice, [bob])).id;
    const [a, b] = [await join(conv, alice), await join(conv, bob)];
    await setLimits(conv, { sendsPerSecond: SLOW, sendBurst: 3 });
    a.send({ t: "send", id: "m1", body: "one" });
    a.send({ t: "send", id: "m2", body: "two" });
    const m2 = await a.next("ack", (f) => f.id === "m2");
    // Five resends while a token is left: each is its ack again, none spends the token.
    for (let i = 0; i < 5; i++) a.send({ t: "send", id: "m1", body: "one" });
    await a.until((f) => f.filter((x) => x.t === "ack" && x.dup === true).length === 5);
    a.send({ t: "send", id: "m3", body: "three" });
    expect((await a.next("ack", (f) => f.id === "m3")).dup).toBeUndefined();
    // The budget is spent now: a resend is still answered, a new message is refused.
    a.send({ t: "send", id: "m2", body: "two" });
    expect(await a.next("ack", (f) => f.id === "m2" && f.dup === true)).toMatchObject({ seq: m2.seq, ts: m2.ts });
    a.send({ t: "send", id: "m4", body: "four" });
    expect(await a.next("error", (f) => f.id === "m4")).toMatchObject({ code: "rate_limited" });
    expect((await convSql(conv, "SELECT count(*) AS n FROM messages"))[0]!.n).toBe(3);
    await closeAll(a, b);
  });

  it("is answered with its ack even when the same send would now be refused (blocked since, files attached)", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ben, ann);
    const [a, b] = [await join(d.id, ann), await join(d.id, ben)];
    const file = await uploaded(ben, d.id, "notes", { name: "notes.txt" });
    b.send({ t: "send", id: "with-file", body: "", files: [file.id] });
    const first = await b.next("ack", (f) => f.id === "with-file");
    b.send({ t: "send", id: "plain", body: "hi ann" });
    await a.next("msg", (m) => m.id === "plain");

    // The file is attached now: sending it again in a new message is refused, the resend is not.
    b.send({ t: "send", id: "with-file", body: "", files: [file.id] });
    expect(await b.next("ack", (f) => f.id === "with-file" && f.dup === true)).toMatchObject({ seq: first.seq, ts: first.ts });
    b.send({ t: "send", id: "again", body: "", files: [file.id] });
    expect(await b.next("error", (f) => f.id === "again")).toMatchObject({ code: "invalid" });

    // Ann blocks ben: his new messages are refused, his resend still gets its ack; nothing is stored.
    expect((await api("PUT", `/api/me/blocks/${ben.username}`, ann.token)).status).toBe(204);
    b.send({ t: "send", id: "after-block", body: "hello?" });
    expect(await b.next("error", (f) => f.id === "after-block")).toMatchObject({ code: "forbidden" });
    b.send({ t: "send", id: "plain", body: "hi ann" });
    expect(await b.next("ack", (f) => f.id === "plain" && f.dup === true)).toMatchObject({ seq: first.seq + 1 });
    expect(await convSql(d.id, "SELECT client_id FROM messages ORDER BY seq")).toEqual([{ client_id: "with-file" }, { client_id: "plain" }]);
    // And the unblock reaches the same object: its memory of who is blocked follows the table.
    expect((await api("DELETE", `/api/me/blocks/${ben.username}`, ann.token)).status).toBe(204);
    b.send({ t: "send", id: "after-unblock", body: "hello again" });
    await a.next("msg", (m) => m.id === "after-unblock");
    await closeAll(a, b);
  });
});
