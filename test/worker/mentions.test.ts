/**
 * Issue 14: unread mentions of me are counted by the server, apart from `unread`, by the rule the
 * app highlights (protocol/markup.ts), and converge like `unread`: after a reconnect, a repeated
 * batch, a read on another device, a deletion, and a read mark whose figure is stale.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Summary } from "../../protocol";
import type { ActivityBatch } from "../../worker/user";
import { api, closeAll, connect, join, room, sendAll, signup, type Account, userStub, watchedDm } from "./helpers";


async function listed(account: Account, id: string): Promise<Summary | undefined> {
  const res = await api("GET", "/api/conversations", account.token);
  expect(res.status).toBe(200);
  return ((await res.json()) as { conversations: Summary[] }).conversations.find((c) => c.id === id);
}

describe("unread mentions", () => {
  it("counts only messages from others that mention me as the app highlights them, and a read clears them", async () => {
    const { alice, bob, conv, inbox, a } = await watchedDm();
    const u = bob.username;
    // Two mentions (any case), and four that are not: code, a longer name, an address, a link.
    const seqs = await sendAll(a, [`hi @${u}`, `\`@${u}\``, `@${u}x`, `mail ${u}@example.com`, `see https://x.test/@${u}`, `*@${u.toUpperCase()}* again`]);
    const last = await inbox.next("activity", (f) => f.seq === seqs[5]);
    expect(inbox.of("activity").map((f) => f.mentions)).toEqual([1, 1, 1, 1, 1, 2]);
    expect(last.unread).toBe(6);
    expect((await listed(bob, conv.id))?.mentions).toBe(2);
    // My own mention of myself is not one; the other person's count is theirs.
    const b = await join(conv.id, bob);
    const [mine] = await sendAll(b, [`note to self @${u}, and @${alice.username}`]);
    await inbox.next("activity", (f) => f.seq === mine);
    expect(inbox.of("activity").at(-1)?.mentions).toBe(2);
    expect((await listed(alice, conv.id))?.mentions).toBe(1);
    // Reading past the first mention leaves one; reading everything, none.
    b.send({ t: "read", seq: seqs[0]! });
    expect((await inbox.next("read", (f) => f.seq === seqs[0])).mentions).toBe(1);
    b.send({ t: "read", seq: mine! });
    expect((await inbox.next("read", (f) => f.seq === mine)).mentions).toBe(0);
    expect((await listed(bob, conv.id))?.mentions).toBeUndefined();
    await closeAll(a, b, inbox);
  });

  it("are counted on demand while no inbox is open, and the inbox frame carries them after a reconnect", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await room(alice, [bob]);
    const first = await connect("/inbox", bob);
    await first.next("inbox");
    await closeAll(first);
    const a = await join(conv.id, alice);
    await sendAll(a, [`@${bob.username} one`, "plain", `two @${bob.username}`]);
    expect((await listed(bob, conv.id))?.mentions).toBe(2);
    const again = await connect("/inbox", bob);
    expect((await again.next("inbox")).conversations.find((c) => c.id === conv.id)?.mentions).toBe(2);
    await closeAll(a, again);
  });

  it("a batch delivered twice counts each mention once", async () => {
    const { alice, bob, conv, inbox, a } = await watchedDm();
    const [seq] = await sendAll(a, [`@${bob.username} look`]);
    await inbox.next("activity", (f) => f.seq === seq);
    const batch: ActivityBatch = {
      conv: conv.id, lastSeq: seq!, last: null, deleted: [],
      items: [{ seq: seq!, from: alice.username, preview: "look", ts: Date.now(), mentions: [bob.username] }],
    };
    await userStub(bob).activity(batch);
    // The index forgot it had counted this seq (a reset between the two deliveries): still once.
    await runInDurableObject(userStub(bob), (instance) => {
      instance.sql.exec("UPDATE convs SET notified_seq = 0, read_seq = 0 WHERE id = ?", conv.id);
    });
    await userStub(bob).activity(batch);
    expect((await userStub(bob).summary(conv.id))?.mentions).toBe(1);
    await closeAll(a, inbox);
  });

  it("a read on another device and a deleted mention clear the count on every inbox", async () => {
    const { bob, conv, inbox, a } = await watchedDm();
    const [one, two] = await sendAll(a, [`@${bob.username} one`, `@${bob.username} two`]);
    await inbox.next("activity", (f) => f.seq === two && f.mentions === 2);
    a.send({ t: "delete", target: two });
    expect((await inbox.next("read", (f) => f.mentions === 1)).unread).toBe(1);
    // Bob's phone reads the rest; the inbox open on his desktop hears it.
    const phone = await join(conv.id, bob);
    phone.send({ t: "read", seq: one! });
    await inbox.next("read", (f) => f.seq === one && f.mentions === 0);
    expect((await userStub(bob).summary(conv.id))?.mentions).toBeUndefined();
    await closeAll(a, phone, inbox);
  });

  it("a read mark with a stale figure asks the conversation for the exact set", async () => {
    const { bob, conv, inbox, a } = await watchedDm();
    const seqs = await sendAll(a, [`@${bob.username} one`, `@${bob.username} two`, `@${bob.username} three`]);
    await inbox.next("activity", (f) => f.seq === seqs[2] && f.mentions === 3);
    // Read up to the first on another device; the figure computed then (as of the second) comes
    // late and names only the second as unread: the third was counted since.
    // (Through the store, which keeps the members in memory, but without the call a read makes.)
    await runInDurableObject(env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(conv.id)), (instance) => {
      instance.store.markRead(bob.username, seqs[0]!);
    });
    // What the index holds went wrong meanwhile (lost): only the conversation's exact set repairs it.
    await runInDurableObject(userStub(bob), (instance) => {
      instance.sql.exec("DELETE FROM unread_mentions WHERE conv = ?", conv.id);
    });
    await userStub(bob).readMoved(conv.id, seqs[0]!, 1, seqs[1]!, [seqs[1]!]);
    await inbox.next("read", (f) => f.conv === conv.id && f.mentions === 2 && f.unread === 2);
    expect((await userStub(bob).summary(conv.id))?.mentions).toBe(2);
    await closeAll(a, inbox);
  });
});
