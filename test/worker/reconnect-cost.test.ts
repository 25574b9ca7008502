/**
 * What a reconnect reads (issue 17): a socket that comes back with `since` replays what it missed
 * with one query of the log when none of those messages has reactions or files, and its welcome
 * counts its unread messages without a query when the conversation counted them before. The
 * shortcuts rest on bounds kept in memory (the highest message with a reaction or a file, the
 * messages stored since a count), so the tests below also hold them to the truth: a reaction or a
 * file given after a replay shows in the next one, and a count kept across messages, reactions,
 * the member's own messages, a read mark and a deletion equals a fresh count. Sockets that come
 * back together with one seq share one read of their page (replay-memo.ts), and a change after it
 * shows in the next.
 */
import { describe, expect, it } from "vitest";
import type { FileRef } from "../../protocol";
import { closeAll, connect, convSql, join, room, signup, statementsDuring, convStub } from "./helpers";
import { uploaded } from "./files-helpers";

/** Unread messages from others after `username`'s read mark, counted by a query of its own. */
async function countedUnread(conv: string, username: string): Promise<number> {
  const [row] = await convSql(
    conv,
    "SELECT count(*) AS n FROM messages WHERE seq > (SELECT read_seq FROM members WHERE username = ?) AND sender != ? AND deleted = 0",
    username, username,
  );
  return Number(row?.n);
}

describe("a reconnect's reads", () => {
  it("replays messages without reactions or files, and counts them unread and shows the newest, with no query but the log's", async () => {
    const [owner, bob] = await Promise.all([signup("rc"), signup("rc")]);
    const conv = await room(owner, [bob]);
    const a = await join(conv.id, owner);
    a.send({ t: "send", id: "before", body: "before bob came" });
    await a.next("ack", (f) => f.id === "before");
    // Bob's first socket: it replays a message (the object reads its bounds once a wake) and its
    // welcome counts his unread messages; then he leaves.
    const first = await connect(`/chat/${conv.id}`, bob, { since: 0 });
    const heldSeq = (await first.next("synced")).lastSeq;
    await closeAll(first);
    for (let i = 0; i < 3; i++) {
      a.send({ t: "send", id: `m${i}`, body: `while bob was away ${i}` });
      await a.next("ack", (f) => f.id === `m${i}`);
    }
    let back: Awaited<ReturnType<typeof connect>> | undefined;
    const statements = await statementsDuring(convStub(conv.id), async () => {
      back = await connect(`/chat/${conv.id}`, bob, { since: heldSeq });
      await back.next("synced");
    });
    const welcome = await back!.next("welcome");
    // The message before he came and the three since: he has read none.
    expect(welcome.conv.unread).toBe(4);
    expect(await countedUnread(conv.id, bob.username)).toBe(4);
    expect(back!.frames.filter((f) => f.t === "msg").map((f) => (f as { id: string }).id)).toEqual(["m0", "m1", "m2"]);
    // Not the reactions, the files or a count of the messages.
    expect(statements.filter((q) => /\bFROM\s+reactions\b/i.test(q))).toEqual([]);
    expect(statements.filter((q) => /\bFROM\s+files\b/i.test(q))).toEqual([]);
    expect(statements.filter((q) => /count\(\*\)/i.test(q))).toEqual([]);
    // One in all: the log after his seq (the newest message, for his welcome's preview, is kept
    // from its insert).
    expect(statements).toHaveLength(1);
    expect(welcome.conv.last).toEqual({ seq: heldSeq + 3, id: "m2", from: owner.username, body: "while bob was away 2", ts: expect.any(Number) });
    await closeAll(a, back!);
  });

  it("reads and encodes the replay once for the sockets that come back with one seq, and again once the log moved", async () => {
    const [owner, bob, carol] = await Promise.all([signup("rc"), signup("rc"), signup("rc")]);
    const conv = await room(owner, [bob, carol]);
    const a = await join(conv.id, owner);
    const held = (await a.next("synced")).lastSeq;
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      a.send({ t: "send", id: `s${i}`, body: `said ${i}` });
      seqs.push((await a.next("ack", (f) => f.id === `s${i}`)).seq);
    }
    const replayed = (s: Awaited<ReturnType<typeof connect>>) => s.frames.filter((f) => f.t === "msg" || f.t === "edit");
    // Bob's and Carol's devices come back together from the seq they all held.
    const back: Awaited<ReturnType<typeof connect>>[] = [];
    const comeBack = async (who: typeof bob) => {
      const s = await connect(`/chat/${conv.id}`, who, { since: held });
      await s.next("synced");
      back.push(s);
      return s;
    };
    const first = await comeBack(bob);
    const statements = await statementsDuring(convStub(conv.id), async () => {
      await comeBack(carol);
      await comeBack(bob);
    });
    // Each had its page, the same one, and neither read the log again.
    expect(replayed(first).map((f) => (f as { seq: number }).seq)).toEqual(seqs);
    for (const s of back) expect(replayed(s)).toEqual(replayed(first));
    expect(statements.filter((q) => /\bFROM\s+(messages|events)\b/i.test(q))).toEqual([]);

    // An edit of a replayed message: the next socket with that seq sees the message as edited,
    // and the edit itself.
    a.send({ t: "edit", target: seqs[1]!, body: "said 1, edited" });
    const edit = await a.next("edit", (f) => f.target === seqs[1]);
    const later = await comeBack(carol);
    const page = replayed(later);
    expect(page.map((f) => (f as { seq: number }).seq)).toEqual([...seqs, edit.seq]);
    expect(page[1]).toMatchObject({ t: "msg", seq: seqs[1], body: "said 1, edited", edited: true });
    await closeAll(a, ...back);
  });

  it("shows a reaction and a file given after a replay in the next replay, in history and in the preview", async () => {
    const [owner, bob] = await Promise.all([signup("rc"), signup("rc")]);
    const conv = await room(owner, [bob]);
    const a = await join(conv.id, owner);
    a.send({ t: "send", id: "plain", body: "nothing on it yet" });
    const plain = await a.next("ack", (f) => f.id === "plain");
    // A replay and a page of history with no reaction and no file: both bounds are read as they stand.
    const early = await connect(`/chat/${conv.id}`, bob, { since: 0 });
    await early.next("msg", (f) => f.id === "plain");
    early.send({ t: "history", limit: 10 });
    await early.next("history");
    await closeAll(early);

    a.send({ t: "react", target: plain.seq, emoji: "👍", on: true });
    await a.next("react", (f) => f.target === plain.seq);
    const note = await uploaded(owner, conv.id, "notes", { name: "notes.txt" });
    a.send({ t: "send", id: "filed", body: "", files: [note.id] });
    await a.next("ack", (f) => f.id === "filed");

    const late = await connect(`/chat/${conv.id}`, bob, { since: 0 });
    const replayedPlain = await late.next("msg", (f) => f.id === "plain");
    const replayedFiled = await late.next("msg", (f) => f.id === "filed");
    expect(replayedPlain.reactions).toEqual([{ emoji: "👍", users: [owner.username] }]);
    expect(replayedFiled.files?.map((f: FileRef) => f.id)).toEqual([note.id]);
    late.send({ t: "history", limit: 10 });
    const page = await late.next("history");
    expect(page.messages.find((m) => m.id === "plain")?.reactions).toEqual([{ emoji: "👍", users: [owner.username] }]);
    expect(page.messages.find((m) => m.id === "filed")?.files?.map((f: FileRef) => f.id)).toEqual([note.id]);
    // The welcome's preview of the newest message: with its files, then a reply with its target.
    expect((await late.next("welcome")).conv.last?.files?.map((f: FileRef) => f.id)).toEqual([note.id]);
    a.send({ t: "send", id: "reply", body: "about that", replyTo: plain.seq });
    const reply = await a.next("ack", (f) => f.id === "reply");
    const again = await join(conv.id, bob);
    expect((await again.next("welcome")).conv.last).toEqual({ seq: reply.seq, id: "reply", from: owner.username, body: "about that", ts: expect.any(Number), replyTo: plain.seq });
    await closeAll(a, late, again);
  });

  it("keeps a member's unread count equal to a fresh count across messages, reactions, their own, a read mark and a deletion", async () => {
    const [owner, bob, carol] = await Promise.all([signup("rc"), signup("rc"), signup("rc")]);
    const conv = await room(owner, [bob, carol]);
    const [a, b, c] = [await join(conv.id, owner), await join(conv.id, bob), await join(conv.id, carol)];
    const unreadOnWelcome = async () => {
      const s = await join(conv.id, bob);
      const n = (await s.next("welcome")).conv.unread;
      await closeAll(s);
      return n;
    };
    expect(await unreadOnWelcome()).toBe(0);

    const sent = async (client: typeof a, id: string) => {
      client.send({ t: "send", id, body: `message ${id}` });
      return (await client.next("ack", (f) => f.id === id)).seq;
    };
    const first = await sent(a, "a1");
    await sent(a, "a2");
    const fromCarol = await sent(c, "c1");
    await sent(b, "b1"); // his own: not unread
    a.send({ t: "react", target: first, emoji: "🎉", on: true });
    await a.next("react", (f) => f.target === first);
    expect(await unreadOnWelcome()).toBe(3);
    expect(await countedUnread(conv.id, bob.username)).toBe(3);

    // A read mark moves the count's start; messages after it are still added.
    b.send({ t: "read", seq: first });
    await expect.poll(() => countedUnread(conv.id, bob.username)).toBe(2);
    expect(await unreadOnWelcome()).toBe(2);
    await sent(c, "c2");
    expect(await unreadOnWelcome()).toBe(3);
    expect(await countedUnread(conv.id, bob.username)).toBe(3);

    // A deletion lowers the count.
    c.send({ t: "delete", target: fromCarol });
    await c.next("delete", (f) => f.target === fromCarol);
    expect(await unreadOnWelcome()).toBe(2);
    expect(await countedUnread(conv.id, bob.username)).toBe(2);
    await closeAll(a, b, c);
  });
});
