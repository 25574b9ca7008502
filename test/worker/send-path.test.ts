/**
 * Issue 17: what a `send` costs, and that a cheaper send keeps every promise of a resend
 * (PROTOCOL.md 4: a resent id is answered with its stored ack, `dup`, and stores nothing). A new
 * message is one statement, its insert: the unique index on (sender, client id) finds a resend
 * in the insert itself, and who is blocked in a DM is known without a query per message. A resend
 * is looked up only when the insert found it or the send was refused, and it costs no budget.
 */
import { describe, expect, it } from "vitest";
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
