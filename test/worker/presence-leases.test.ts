/**
 * Presence leases in the user object are kept in memory and written a moment later (issue 17,
 * lease-book.ts): a report waits for no durable write, a restart finds what was written, and a
 * report lost to a crash is repaired by the conversation's next renewal.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { FLUSH_DELAY_MS } from "../../worker/user/hit-window";
import { expirySlackMs } from "../../worker/user/lease-book";
import { DEFAULT_LIMITS } from "../../protocol/limits";
import { closeAll, convStub, signup, userStub, watchedDm, writesDuring, type Account } from "./helpers";

/** Leases the user's table holds (what a restarted object would find). */
const storedLeases = (a: Account) =>
  runInDurableObject(userStub(a), (_i, state) => state.storage.sql.exec<{ conv: string; sessions: string | null }>("SELECT conv, sessions FROM presence_leases ORDER BY conv").toArray());

const HOUR = 3_600_000;

describe("presence leases (issue 17)", () => {
  it("a report waits for no durable write: the leases are written a moment later, together", async () => {
    const bob = await signup("lease");
    const convs = ["c1", "c2", "c3", "c4", "c5"].map((c) => `${c}-${bob.username}`);
    const onReports = await writesDuring(userStub(bob), async () => {
      for (const conv of convs) await userStub(bob).connection(conv, true, Date.now() + HOUR, [`s-${conv}`]);
      await userStub(bob).connection(convs[4]!, false, 0);
    });
    expect(onReports.filter((q) => /presence_leases/.test(q))).toEqual([]);
    // Already true in memory: online, with the sessions that are looking.
    expect(await userStub(bob).isOnline()).toBe(true);
    expect([...(await userStub(bob).sessionsLooking()).sessions].sort()).toEqual(convs.slice(0, 4).map((c) => `s-${c}`));
    await vi.waitFor(async () => expect((await storedLeases(bob)).map((r) => r.conv)).toEqual(convs.slice(0, 4)), { timeout: FLUSH_DELAY_MS * 5, interval: 100 });
    expect(JSON.parse(String((await storedLeases(bob))[0]!.sessions))).toEqual([`s-${convs[0]}`]);
  });

  it("the alarm for a lease's end comes the object's own share of half an interval after it, and expires it", async () => {
    const bob = await signup("lease");
    const conv = `c-${bob.username}`;
    const until = Date.now() + HOUR;
    await userStub(bob).connection(conv, true, until, ["s1"]);
    const [id, alarm] = await runInDurableObject(userStub(bob), async (_i, state) => [state.id.toString(), await state.storage.getAlarm()] as const);
    const slack = expirySlackMs(id, DEFAULT_LIMITS.heartbeatMs);
    expect(alarm).toBe(until + slack);
    // The lease ran out (nobody renewed it): the alarm finds it gone.
    await runInDurableObject(userStub(bob), (instance) => instance.presence.setLease(conv, Date.now() - slack - 1));
    expect(await runDurableObjectAlarm(userStub(bob))).toBe(true);
    expect(await userStub(bob).isOnline()).toBe(false);
  });

  it("a restart finds the leases written, and a lease's end too", async () => {
    const bob = await signup("lease");
    const conv = `c-${bob.username}`;
    await userStub(bob).connection(conv, true, Date.now() + HOUR, ["s1"]);
    await vi.waitFor(async () => expect(await storedLeases(bob)).toHaveLength(1), { timeout: FLUSH_DELAY_MS * 5, interval: 100 });
    await evictDurableObject(userStub(bob));
    expect(await userStub(bob).isOnline()).toBe(true);
    expect([...(await userStub(bob).sessionsLooking()).sessions]).toEqual(["s1"]);

    await userStub(bob).connection(conv, false, 0);
    expect(await userStub(bob).isOnline()).toBe(false);
    await vi.waitFor(async () => expect(await storedLeases(bob)).toEqual([]), { timeout: FLUSH_DELAY_MS * 5, interval: 100 });
    await evictDurableObject(userStub(bob));
    expect(await userStub(bob).isOnline()).toBe(false);
  });

  it("a lease the user object lost (a crash before it was written) comes back with the conversation's renewal", async () => {
    // Alice has a socket in the DM; Bob watches from his inbox.
    const { alice, conv, inbox, a } = await watchedDm();
    await vi.waitFor(async () => expect(await userStub(alice).isOnline()).toBe(true), { timeout: 5_000, interval: 50 });
    // Alice's object lost the lease (a restart before it was written): it knows of no socket of hers.
    await runInDurableObject(userStub(alice), (instance) => {
      instance.presence.dropLease(conv.id);
      instance.presence.leases.flush();
    });
    expect(await storedLeases(alice)).toEqual([]);
    expect(await userStub(alice).isOnline()).toBe(false);
    // The conversation renews its members' leases every heartbeat: Alice is online again.
    await runDurableObjectAlarm(convStub(conv.id));
    await vi.waitFor(async () => expect(await userStub(alice).isOnline()).toBe(true), { timeout: 5_000, interval: 50 });
    await vi.waitFor(async () => expect(await storedLeases(alice)).toHaveLength(1), { timeout: FLUSH_DELAY_MS * 5, interval: 100 });
    await closeAll(a, inbox);
  });
});
