/**
 * The heartbeat's lease renewals (ConversationPresence.renewLeases), with the runtime's clock
 * replaced: each member is renewed once, the renewals are spread over half an interval in the
 * order given instead of going out in bursts, every lease is renewed well inside its length (two
 * and a half to three intervals, by member, so that leases set together do not end together), and
 * a member who left meanwhile is not renewed (their object would count them online for three
 * more intervals).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConversationPresence, LEASE_RENEW_BUCKET_MS, LEASE_RENEW_SPREAD, leaseMs, PRESENCE_LEASE_INTERVALS, type PresenceHooks } from "../../worker/conversation/presence";

const HEARTBEAT_MS = 30_000;

interface Renewal {
  user: string;
  at: number;
  online: boolean;
  until: number;
}

/** A presence whose members' objects record each lease call, with when it was made. */
function presenceWith(connected: Set<string>, renewals: Renewal[]) {
  const users = {
    idFromName: (name: string) => name,
    get: (user: string) => ({
      connection: async (_conv: string, online: boolean, until: number) => {
        renewals.push({ user, at: Date.now(), online, until });
        return [];
      },
    }),
  };
  const hooks = {
    env: { USERS: users } as unknown as Env,
    ctx: { waitUntil: () => {} } as unknown as DurableObjectState,
    store: {} as PresenceHooks["store"],
    table: {} as PresenceHooks["table"],
    convId: () => "room-1",
    heartbeatMs: () => HEARTBEAT_MS,
    hasSocket: (u: string) => connected.has(u),
    sessionsOf: (u: string) => (connected.has(u) ? [`session-${u}`] : []),
    connected: () => connected,
    endSession: () => {},
    sessionsLive: () => {},
    broadcast: () => {},
  } satisfies PresenceHooks;
  return new ConversationPresence(hooks);
}

describe("lease renewals", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("spreads a room's renewals over half an interval, each member once, in order", async () => {
    const members = Array.from({ length: 100 }, (_, i) => `m${i}`);
    const renewals: Renewal[] = [];
    const presence = presenceWith(new Set(members), renewals);
    const start = Date.now();
    presence.renewLeases(members);
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);

    expect(renewals.map((r) => r.user)).toEqual(members);
    expect(renewals.every((r) => r.online)).toBe(true);
    // No burst: the busiest moment renews one member (a hundred over 15 s: one every 150 ms).
    const perMoment = new Map<number, number>();
    for (const r of renewals) perMoment.set(r.at, (perMoment.get(r.at) ?? 0) + 1);
    expect(Math.max(...perMoment.values())).toBe(1);
    // All within half an interval, the first at once, the last near its end.
    const spread = LEASE_RENEW_SPREAD * HEARTBEAT_MS;
    expect(renewals[0]!.at).toBe(start);
    expect(renewals.at(-1)!.at - start).toBeLessThan(spread);
    expect(renewals.at(-1)!.at - start).toBeGreaterThan(spread * 0.9);
    // Each lease runs its member's length from its renewal.
    for (const r of renewals) expect(r.until).toBe(r.at + leaseMs(r.user, HEARTBEAT_MS));
  });

  it("renews every member of a very large room, a bucket at a time", async () => {
    const members = Array.from({ length: 5000 }, (_, i) => `m${i}`);
    const renewals: Renewal[] = [];
    const presence = presenceWith(new Set(members), renewals);
    presence.renewLeases(members);
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);

    expect(new Set(renewals.map((r) => r.user)).size).toBe(5000);
    expect(renewals).toHaveLength(5000);
    const moments = new Set(renewals.map((r) => r.at));
    // As many moments as buckets fit in the spread, no more (one timer per bucket).
    expect(moments.size).toBe((LEASE_RENEW_SPREAD * HEARTBEAT_MS) / LEASE_RENEW_BUCKET_MS);
  });

  it("keeps each member's renewals an interval apart, so no lease runs out between them", async () => {
    const members = Array.from({ length: 100 }, (_, i) => `m${i}`);
    const renewals: Renewal[] = [];
    const presence = presenceWith(new Set(members), renewals);
    // Three heartbeats, as the alarm calls it; the order of the sockets is the same each time.
    for (let beat = 0; beat < 3; beat++) {
      presence.renewLeases(members);
      await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    }
    for (const m of members) {
      const mine = renewals.filter((r) => r.user === m);
      expect(mine).toHaveLength(3);
      for (let i = 1; i < mine.length; i++) {
        expect(mine[i]!.at - mine[i - 1]!.at).toBe(HEARTBEAT_MS);
        expect(mine[i]!.at).toBeLessThan(mine[i - 1]!.until);
      }
    }
  });

  it("does not renew a member whose sockets all closed before their turn", async () => {
    const members = ["ann", "bob", "cat", "dan"];
    const connected = new Set(members);
    const renewals: Renewal[] = [];
    const presence = presenceWith(connected, renewals);
    presence.renewLeases(members);
    // Ann is renewed at once; Dan, last, leaves before his turn comes.
    expect(renewals.map((r) => r.user)).toEqual(["ann"]);
    connected.delete("dan");
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(renewals.map((r) => r.user)).toEqual(["ann", "bob", "cat"]);
  });
});

describe("a lease's length", () => {
  it("is three intervals less a member's own share of half of one, spread over the members", () => {
    const users = Array.from({ length: 100 }, (_, i) => `user${i}`);
    const lengths = users.map((u) => leaseMs(u, HEARTBEAT_MS));
    for (const l of lengths) {
      expect(l).toBeLessThanOrEqual(PRESENCE_LEASE_INTERVALS * HEARTBEAT_MS);
      expect(l).toBeGreaterThan((PRESENCE_LEASE_INTERVALS - 0.5) * HEARTBEAT_MS);
      // Longer than the longest wait between two renewals (renewLeases: an interval and a half).
      expect(l).toBeGreaterThan((1 + LEASE_RENEW_SPREAD) * HEARTBEAT_MS);
    }
    expect(users.map((u) => leaseMs(u, HEARTBEAT_MS))).toEqual(lengths);
    // Leases set together end over most of half an interval, not at one moment: no slice of a
    // tenth of it holds more than a quarter of the members.
    const slices = new Map<number, number>();
    for (const l of lengths) {
      const k = Math.floor((PRESENCE_LEASE_INTERVALS * HEARTBEAT_MS - l) / (HEARTBEAT_MS / 20));
      slices.set(k, (slices.get(k) ?? 0) + 1);
    }
    expect(slices.size).toBeGreaterThanOrEqual(8);
    expect(Math.max(...slices.values())).toBeLessThanOrEqual(25);
  });
});
