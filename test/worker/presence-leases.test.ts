/**
 * Presence leases in the user object are kept in memory and written a moment later (issue 17,
 * lease-book.ts): a report waits for no durable write, a restart finds what was written, and a
 * report lost to a crash is repaired by the conversation's next renewal.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { FLUSH_DELAY_MS } from "../../worker/user/hit-window";
import { leaseMs, PRESENCE_LEASE_INTERVALS } from "../../worker/conversation/presence";
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

  it("a conversation's lease lasts three intervals less the member's own share of half of one; the alarm comes at its end", async () => {
    const before = Date.now();
    const { alice, conv } = await watchedDm();
    await vi.waitFor(async () => expect(await userStub(alice).isOnline()).toBe(true), { timeout: 5_000, interval: 50 });
    const after = Date.now();
    const [until, alarm] = await runInDurableObject(userStub(alice), async (instance, state) => {
      const lease = [...instance.presence.leases.live(Date.now())][0];
      return [lease?.until ?? null, await state.storage.getAlarm()] as const;
    });
    const length = leaseMs(alice.username, DEFAULT_LIMITS.heartbeatMs);
    expect(length).toBeLessThanOrEqual(PRESENCE_LEASE_INTERVALS * DEFAULT_LIMITS.heartbeatMs);
    expect(length).toBeGreaterThan((PRESENCE_LEASE_INTERVALS - 0.5) * DEFAULT_LIMITS.heartbeatMs);
    expect(until).not.toBeNull();
    expect(until! - length).toBeGreaterThanOrEqual(before);
    expect(until! - length).toBeLessThanOrEqual(after);
    expect(alarm).toBe(until);
    // The lease ran out (nobody renewed it): the alarm finds Alice offline.
    await runInDurableObject(userStub(alice), (instance) => instance.presence.setLease(conv.id, Date.now() - 1));
    expect(await runDurableObjectAlarm(userStub(alice))).toBe(true);
    expect(await userStub(alice).isOnline()).toBe(false);
  });

  it("a member gone offline cleanly has no alarm left to wake her, unless something is still owed", async () => {
    const bob = await signup("lease");
    const alarm = () => runInDurableObject(userStub(bob), (_i, state) => state.storage.getAlarm());
    const conv = `c1-${bob.username}`;
    await userStub(bob).connection(conv, true, Date.now() + HOUR, ["s1"]);
    await vi.waitFor(async () => expect(await alarm()).not.toBeNull(), { timeout: 5_000, interval: 50 });
    await userStub(bob).connection(conv, false, 0);
    await vi.waitFor(async () => expect(await alarm()).toBeNull(), { timeout: 5_000, interval: 50 });
    // After a wake (the time no longer remembered) it is read once and cleared all the same.
    await userStub(bob).connection(conv, true, Date.now() + HOUR, ["s1"]);
    await vi.waitFor(async () => expect(await alarm()).not.toBeNull(), { timeout: 5_000, interval: 50 });
    await evictDurableObject(userStub(bob));
    await userStub(bob).connection(conv, false, 0);
    await vi.waitFor(async () => expect(await alarm()).toBeNull(), { timeout: 5_000, interval: 50 });
    // A note still owed to a conversation (a new name) keeps the alarm that retries it.
    await userStub(bob).connection(conv, true, Date.now() + HOUR, ["s1"]);
    await runInDurableObject(userStub(bob), (_i, state) => {
      state.storage.sql.exec("INSERT INTO conv_notes (conv, kind, payload) VALUES (?, 'name', '{}')", conv);
    });
    await userStub(bob).connection(conv, false, 0);
    expect(await userStub(bob).isOnline()).toBe(false);
    expect(await alarm()).not.toBeNull();
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
