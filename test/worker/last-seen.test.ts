/**
 * Issue 14: when someone offline was last online. Their own object stamps it when they go
 * offline and announces it with their state; conversations pass it on in presence frames, the
 * members route and welcome, and watching inboxes get it in presence frames.
 */
import { describe, expect, it } from "vitest";
import type { Member } from "../../protocol";
import { api, closeAll, connect, dm, join, signup, type Account, userStub } from "./helpers";

async function members(conv: string, a: Account): Promise<Member[]> {
  const res = await api("GET", `/api/conversations/${conv}/members`, a.token);
  expect(res.status).toBe(200);
  return ((await res.json()) as { members: Member[] }).members;
}

describe("last seen", () => {
  it("reaches the other member's conversation socket, inbox, the members route and welcome", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const inbox = await connect("/inbox", alice);
    await inbox.next("inbox");
    const a = await join(conv.id, alice);
    const b = await join(conv.id, bob);
    await a.next("presence", (f) => f.username === bob.username && f.online);
    // Online: no "last seen" anywhere.
    expect((await members(conv.id, alice)).find((m) => m.username === bob.username)?.lastSeen).toBeUndefined();
    const before = Date.now();
    await closeAll(b);
    const gone = await a.next("presence", (f) => f.username === bob.username && !f.online);
    expect(gone.lastSeen).toBeGreaterThanOrEqual(before);
    expect(gone.lastSeen).toBeLessThanOrEqual(Date.now());
    const told = await inbox.next("presence", (f) => f.username === bob.username && !f.online);
    // Bob's object decided; what it announced is what everyone else shows from now on.
    await expect.poll(async () => (await userStub(bob).presenceState()).lastSeen).toBe(told.lastSeen);
    const stamped = told.lastSeen!;
    expect(stamped).toBeGreaterThanOrEqual(before);
    await expect.poll(async () => (await members(conv.id, alice)).find((m) => m.username === bob.username)?.lastSeen).toBe(stamped);
    const again = await join(conv.id, alice);
    const welcome = again.of("welcome")[0]!;
    expect(welcome.members.find((m) => m.username === bob.username)?.lastSeen).toBe(stamped);
    // Alice is online: she has no "last seen".
    expect(welcome.members.find((m) => m.username === alice.username)?.lastSeen).toBeUndefined();
    await closeAll(a, again, inbox);
  });

  it("is kept while offline and replaced by a newer one after the next visit", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const visit = async () => {
      const b = await connect("/inbox", bob);
      await b.next("inbox");
      await closeAll(b);
      await expect.poll(async () => (await userStub(bob).presenceState()).online).toBe(false);
      return (await userStub(bob).presenceState()).lastSeen!;
    };
    const first = await visit();
    expect(first).toBeGreaterThan(0);
    // Asked again while still offline: the same moment, not "now".
    await new Promise((r) => setTimeout(r, 5));
    expect((await userStub(bob).presenceState()).lastSeen).toBe(first);
    const second = await visit();
    expect(second).toBeGreaterThan(first);
    await expect.poll(async () => (await members(conv.id, alice)).find((m) => m.username === bob.username)?.lastSeen).toBe(second);
  });
});
