/**
 * What a socket upgrade costs between objects (issue 17, the reconnect storm): the Worker checks
 * only the token's signature; the conversation asks the member's object whether the session is
 * live and, for the session's first socket there, sets the presence lease in the same call. The
 * inbox checks its own session. Refusals stay what they were, and a lost answer leaves no lease.
 * A session the conversation heard was live a moment ago comes back with no call at all; its lease
 * follows, and whatever it misses is repaired.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { signToken } from "../../worker/auth/token";
import type { UserObject } from "../../worker/user";
import { QUICK_ADMITS_PER_WINDOW } from "../../worker/conversation/quick-admits";
import { CHECK_SAVE_DELAY_MS } from "../../worker/conversation/checked-sessions-table";
import { DEFERRED_REPORT_MS } from "../../worker/conversation/presence";
import type { Summary } from "../../protocol";
import { api, connect, convSql, convStub, dm, join, sessionOf, signup, userStub, type Account, type TestClient } from "./helpers";
import { browserSubscription, standInEndpoint, subscribe } from "./push-helpers";

type Spied = "checkSession" | "connection" | "admitSocket";

/**
 * Notes every call of `methods` made to `who`'s object. A call through a stub finds the method on
 * the class, so the prototype is wrapped, and put back when the test ends.
 */
async function callsTo(who: Account, methods: Spied[]): Promise<string[]> {
  const log: string[] = [];
  const proto = await runInDurableObject(userStub(who), (instance) => Object.getPrototypeOf(instance) as UserObject);
  for (const name of methods) {
    const own = proto[name] as (...args: unknown[]) => unknown;
    if (typeof own !== "function") continue; // not there: it cannot be called either
    (proto as unknown as Record<string, unknown>)[name] = function (this: UserObject, ...args: unknown[]) {
      if (this.profile()?.username === who.username) log.push(name);
      return own.apply(this, args);
    };
    onTestFinished(() => { (proto as unknown as Record<string, unknown>)[name] = own; });
  }
  return log;
}

const online = (who: Account) => userStub(who).isOnline();
/** Whether `who`'s object holds a live lease from conversation `conv`. */
const leaseFrom = (who: Account, conv: string) => runInDurableObject(userStub(who), (instance) => instance.presence.leases.holds(conv, Date.now()));
/** Whether conversation `conv` was told that `who` is online (by their object). */
const announcedOnline = (conv: string, who: Account) => runInDurableObject(convStub(conv), (instance) => instance.presence.announcedOnline(who.username));
const waitLong = { timeout: 4 * DEFERRED_REPORT_MS + 5_000, interval: 20 };

/** Makes conversation `id`'s closeSession fail (a sign-out's call that is lost) until the returned function runs. */
async function loseCloseSession(id: string): Promise<() => void> {
  const proto = await runInDurableObject(convStub(id), (instance) => Object.getPrototypeOf(instance) as { closeSession: (s: string) => void });
  const own = proto.closeSession;
  proto.closeSession = () => {
    throw new Error("lost");
  };
  const restore = () => {
    proto.closeSession = own;
  };
  onTestFinished(restore);
  return restore;
}

/**
 * Alice in two DMs: connected in the one with Bob (online by its lease), and, in the one with
 * Carol, a session checked a moment ago (a socket opened and closed) and the news that she is online.
 */
async function onlineWithACheckedSession(): Promise<{ alice: Account; withBob: Summary; withCarol: Summary; a: TestClient }> {
  const alice = await signup("adm");
  const bob = await signup("adm");
  const carol = await signup("adm");
  const withBob = await dm(alice, bob);
  const withCarol = await dm(alice, carol);
  (await join(withCarol.id, alice)).close();
  const a = await join(withBob.id, alice);
  await vi.waitFor(async () => expect(await announcedOnline(withCarol.id, alice)).toBe(true), waitLong);
  return { alice, withBob, withCarol, a };
}

async function secondSession(who: Account): Promise<Account> {
  const login = await api("POST", "/api/login", undefined, { username: who.username, password: "correct horse battery" });
  return { username: who.username, token: ((await login.json()) as { token: string }).token };
}

describe("admitting a socket (issue 17)", () => {
  it("costs one call to the member's object: the session checked and the lease set together", async () => {
    const alice = await signup("adm");
    const bob = await signup("adm");
    const conv = await dm(alice, bob);
    const log = await callsTo(alice, ["checkSession", "connection", "admitSocket"]);
    const a = await join(conv.id, alice);
    // Online by the lease the admission set (the old path reported it after the welcome).
    await vi.waitFor(async () => expect(await userStub(alice).isOnline()).toBe(true), { timeout: 5_000, interval: 20 });
    expect(log).toEqual(["admitSocket"]);
    expect((await userStub(alice).sessionsLooking()).sessions).toEqual(new Set([sessionOf(alice)]));
    // A second socket of the same session (another tab): no call at all, its session has a
    // socket open here and its lease is already there.
    const a2 = await join(conv.id, alice);
    expect(log).toEqual(["admitSocket"]);
    // Another device: its session is checked and joins the lease in its own admission, with no
    // report after.
    const other = await secondSession(alice);
    const a3 = await join(conv.id, other);
    await vi.waitFor(async () => expect((await userStub(alice).sessionsLooking()).sessions).toEqual(new Set([sessionOf(alice), sessionOf(other)])), { timeout: 5_000, interval: 20 });
    expect(log).toEqual(["admitSocket", "admitSocket"]);
    a.close();
    a2.close();
    a3.close();
  });

  it("an inbox checks its session where it is kept: no call for it", async () => {
    const alice = await signup("adm");
    const log = await callsTo(alice, ["checkSession", "admitSocket"]);
    const inbox = await connect("/inbox", alice);
    await inbox.next("inbox");
    expect(log).toEqual([]);
    inbox.close();
    // A signed-out session is still refused.
    expect((await api("POST", "/api/logout", alice.token)).status).toBeLessThan(300);
    const again = await connect("/inbox", alice);
    expect(await again.closed()).toBe(4401);
  });

  it("a forged token is refused by the Worker: no conversation wakes for it", async () => {
    const alice = await signup("adm");
    const bob = await signup("adm");
    const conv = await dm(alice, bob);
    const forged: Account = { username: alice.username, token: await signToken({ username: alice.username, session: sessionOf(alice), expires: Date.now() + 60_000 }, "not the secret, not the secret") };
    const proto = await runInDurableObject(convStub(conv.id), (instance) => Object.getPrototypeOf(instance) as { fetch: (r: Request) => Promise<Response> });
    const own = proto.fetch;
    let woken = 0;
    proto.fetch = function (this: unknown, request: Request) {
      woken++;
      return own.call(this, request);
    };
    onTestFinished(() => { proto.fetch = own; });
    const c = await connect(`/chat/${conv.id}`, forged);
    expect(await c.closed()).toBe(4401);
    expect(woken).toBe(0);
  });

  it("a signed-out session is refused by the conversation and leaves no lease", async () => {
    const alice = await signup("adm");
    const bob = await signup("adm");
    const conv = await dm(alice, bob);
    expect((await api("POST", "/api/logout", alice.token)).status).toBeLessThan(300);
    const log = await callsTo(alice, ["connection", "admitSocket"]);
    const c = await connect(`/chat/${conv.id}`, alice);
    expect(await c.closed()).toBe(4401);
    expect(c.frames).toEqual([]);
    expect(log).toEqual(["admitSocket"]);
    expect(await userStub(alice).isOnline()).toBe(false);
  });

  it("a lease set by a call whose answer was lost is put right: the socket is refused and the member is not left online", async () => {
    const alice = await signup("adm");
    const bob = await signup("adm");
    const conv = await dm(alice, bob);
    const proto = await runInDurableObject(userStub(alice), (instance) => Object.getPrototypeOf(instance) as UserObject);
    const own = proto.admitSocket;
    let leased = false;
    proto.admitSocket = function (this: UserObject, ...args: Parameters<typeof own>) {
      own.apply(this, args);
      leased = this.isOnline();
      throw new Error("the answer was lost");
    };
    onTestFinished(() => { proto.admitSocket = own; });
    const c = await connect(`/chat/${conv.id}`, alice);
    expect(await c.closed()).toBe(1011);
    expect(leased).toBe(true);
    proto.admitSocket = own;
    // The conversation holds no socket of hers: it tells her object so, and the lease ends.
    await vi.waitFor(async () => expect(await userStub(alice).isOnline()).toBe(false), { timeout: 5_000, interval: 20 });
    // The next try is served.
    const again = await join(conv.id, alice);
    await vi.waitFor(async () => expect(await userStub(alice).isOnline()).toBe(true), { timeout: 5_000, interval: 20 });
    again.close();
  });

  it("more sockets of a session open here skip the call within an allowance; past it they are checked", async () => {
    const alice = await signup("adm");
    const bob = await signup("adm");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    const log = await callsTo(alice, ["admitSocket"]);
    for (let i = 0; i < QUICK_ADMITS_PER_WINDOW; i++) (await join(conv.id, alice)).close();
    expect(log).toEqual([]);
    (await join(conv.id, alice)).close();
    expect(log).toEqual(["admitSocket"]);
    a.close();
  });

  it("a sign-out whose close never reached a conversation is repaired by the next lease renewal", async () => {
    const alice = await signup("adm");
    const bob = await signup("adm");
    const conv = await dm(alice, bob);
    const other = await secondSession(alice);
    const a = await join(conv.id, alice);
    const kept = await join(conv.id, other);
    // The sign-out's call to this conversation is lost.
    const restore = await loseCloseSession(conv.id);
    expect((await api("POST", "/api/logout", alice.token)).status).toBeLessThan(300);
    expect(a.closeCode).toBeNull();
    restore();
    // The heartbeat renews the leases; the answer names the signed-out session.
    await runInDurableObject(convStub(conv.id), (instance) => instance.alarm());
    expect(await a.closed()).toBe(4401);
    // The other device's socket stays, and a new socket of the signed-out session is refused.
    expect(kept.closeCode).toBeNull();
    expect(await (await connect(`/chat/${conv.id}`, alice)).closed()).toBe(4401);
    await vi.waitFor(async () => expect((await userStub(alice).sessionsLooking()).sessions).toEqual(new Set([sessionOf(other)])), { timeout: 5_000, interval: 20 });
    kept.close();
  });

  it("a session checked a moment ago comes back without a call; its lease follows by itself", async () => {
    const alice = await signup("adm");
    const bob = await signup("adm");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    await vi.waitFor(async () => expect(await online(alice)).toBe(true), waitLong);
    a.close();
    await vi.waitFor(async () => expect(await online(alice)).toBe(false), waitLong);
    const log = await callsTo(alice, ["checkSession", "admitSocket", "connection"]);
    const back = await join(conv.id, alice);
    // Welcomed and synced with nothing asked of her object.
    expect(log).toEqual([]);
    // Nobody announced her online: the lease goes a moment later, and she is online by it.
    await vi.waitFor(async () => expect(await online(alice)).toBe(true), waitLong);
    expect(log).toEqual(["connection"]);
    expect(await leaseFrom(alice, conv.id)).toBe(true);
    expect((await userStub(alice).sessionsLooking()).sessions).toEqual(new Set([sessionOf(alice)]));
    back.close();
  });

  it("a member already online: the lease of a socket admitted without a call goes with the next renewal", async () => {
    const { alice, withBob, withCarol, a } = await onlineWithACheckedSession();
    const log = await callsTo(alice, ["admitSocket", "connection"]);
    const c = await join(withCarol.id, alice);
    expect(log).toEqual([]);
    expect(await leaseFrom(alice, withCarol.id)).toBe(false);
    await runInDurableObject(convStub(withCarol.id), (instance) => instance.alarm());
    await vi.waitFor(async () => expect(await leaseFrom(alice, withCarol.id)).toBe(true), waitLong);
    expect(log).toEqual(["connection"]);
    // Her socket with Bob closes: she stays online by the lease the renewal set.
    a.close();
    await vi.waitFor(async () => expect(await leaseFrom(alice, withBob.id)).toBe(false), waitLong);
    expect(await online(alice)).toBe(true);
    c.close();
  });

  it("a member with push subscriptions has that lease told after the wait even when online: a push must skip the device", async () => {
    const { alice, withCarol, a } = await onlineWithACheckedSession();
    expect((await subscribe(alice, (await browserSubscription(standInEndpoint().endpoint)).body)).status).toBe(201);
    // Announced with push subscriptions (whom to notify is stored at once).
    await vi.waitFor(async () => expect(await convSql(withCarol.id, "SELECT push FROM presence WHERE username = ?", alice.username)).toEqual([{ push: 1 }]), waitLong);
    const log = await callsTo(alice, ["admitSocket", "connection"]);
    const c = await join(withCarol.id, alice);
    expect(log).toEqual([]);
    // No renewal runs here: the report goes by itself.
    await vi.waitFor(async () => expect(await leaseFrom(alice, withCarol.id)).toBe(true), waitLong);
    expect(log).toEqual(["connection"]);
    a.close();
    c.close();
  });

  it("a member announced offline while a socket of theirs is open here is reported at once, so they come back online", async () => {
    const { alice, withBob, withCarol, a } = await onlineWithACheckedSession();
    // Admitted without a call; its lease waits for a renewal that does not come in this test.
    const c = await join(withCarol.id, alice);
    expect(await leaseFrom(alice, withCarol.id)).toBe(false);
    // The only lease her object holds ends: it counts her offline and says so to both.
    a.close();
    await vi.waitFor(async () => {
      expect(await leaseFrom(alice, withCarol.id)).toBe(true);
      expect(await online(alice)).toBe(true);
      expect(await announcedOnline(withBob.id, alice)).toBe(true);
    }, waitLong);
    expect((await userStub(alice).sessionsLooking()).sessions).toEqual(new Set([sessionOf(alice)]));
    c.close();
  });

  it("a sign-out forgets a session checked a moment ago: its next socket is asked about and refused", async () => {
    const alice = await signup("adm");
    const bob = await signup("adm");
    const conv = await dm(alice, bob);
    (await join(conv.id, alice)).close();
    expect((await api("POST", "/api/logout", alice.token)).status).toBeLessThan(300);
    const log = await callsTo(alice, ["admitSocket"]);
    const again = await connect(`/chat/${conv.id}`, alice);
    expect(await again.closed()).toBe(4401);
    expect(log).toEqual(["admitSocket"]);
  });

  it("a sign-out whose close never reached a conversation lets its session back in until the next renewal, which closes it", async () => {
    const alice = await signup("adm");
    const bob = await signup("adm");
    const conv = await dm(alice, bob);
    const other = await secondSession(alice);
    (await join(conv.id, alice)).close();
    const kept = await join(conv.id, other);
    const restore = await loseCloseSession(conv.id);
    expect((await api("POST", "/api/logout", alice.token)).status).toBeLessThan(300);
    restore();
    // The conversation never heard: the session it checked a moment ago gets in...
    const stale = await join(conv.id, alice);
    // ...until the heartbeat's renewal, whose answer names it.
    await runInDurableObject(convStub(conv.id), (instance) => instance.alarm());
    expect(await stale.closed()).toBe(4401);
    expect(kept.closeCode).toBeNull();
    // Forgotten with its close: the next try is asked about, and refused.
    expect(await (await connect(`/chat/${conv.id}`, alice)).closed()).toBe(4401);
    kept.close();
  });

  it("the answer that admits a member's first socket does not wait for their coming online to be stored", async () => {
    const alice = await signup("adm");
    const budget = { kind: "http" as const, max: 1_000, windowMs: 60_000 };
    const lease = { conv: `c-${alice.username}`, until: Date.now() + 60_000, sessions: [sessionOf(alice)] };
    // What the call runs in its own turn: the output gate would hold its answer for any write.
    const { check, writes } = await runInDurableObject(userStub(alice), (instance, state) => {
      const sql = state.storage.sql;
      const exec = sql.exec;
      const writes: string[] = [];
      sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
        if (/^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(query)) writes.push(query);
        return exec.call(sql, query, ...bindings);
      }) as SqlStorage["exec"];
      try {
        return { check: instance.admitSocket(sessionOf(alice), budget, lease), writes };
      } finally {
        sql.exec = exec;
      }
    });
    expect(check.ok).toBe(true);
    expect(writes.filter((q) => /presence_state/.test(q))).toEqual([]);
    expect(await userStub(alice).isOnline()).toBe(true);
    // Worked out and stored a moment later by itself (nothing here asks for it).
    const stored = () => runInDurableObject(userStub(alice), (_i, state) => state.storage.sql.exec<{ online: number }>("SELECT online FROM presence_state").toArray());
    await vi.waitFor(async () => expect(await stored()).toEqual([{ online: 1 }]), { timeout: 5_000, interval: 20 });
  });

  describe("after a restart (a deploy, an eviction)", () => {
    /** The rows conversation `id` stores for `who`'s sessions, as a restarted object finds them. */
    const stored = (id: string, who: Account) => convSql(id, "SELECT session, until FROM checked_sessions WHERE username = ?", who.username);
    const written = { timeout: CHECK_SAVE_DELAY_MS * 10, interval: 20 };

    /** Alice's session checked in her DM with Bob (a socket opened and closed), stored, then the object restarted. */
    async function checkedThenRestarted(): Promise<{ alice: Account; conv: Summary }> {
      const alice = await signup("adm");
      const bob = await signup("adm");
      const conv = await dm(alice, bob);
      (await join(conv.id, alice)).close();
      await vi.waitFor(async () => expect(await stored(conv.id, alice)).toHaveLength(1), written);
      await evictDurableObject(convStub(conv.id));
      return { alice, conv };
    }

    it("a session checked before it comes back without a call, and its lease follows", async () => {
      const { alice, conv } = await checkedThenRestarted();
      const log = await callsTo(alice, ["checkSession", "admitSocket", "connection"]);
      const back = await join(conv.id, alice);
      expect(log).toEqual([]);
      await vi.waitFor(async () => expect(await leaseFrom(alice, conv.id)).toBe(true), waitLong);
      expect(await online(alice)).toBe(true);
      back.close();
    });

    it("a check that has run out is asked about again", async () => {
      const { alice, conv } = await checkedThenRestarted();
      await convSql(conv.id, "UPDATE checked_sessions SET until = ? WHERE username = ?", Date.now() - 1, alice.username);
      await evictDurableObject(convStub(conv.id));
      const log = await callsTo(alice, ["admitSocket"]);
      (await join(conv.id, alice)).close();
      expect(log).toEqual(["admitSocket"]);
    });

    it("a conversation with no tables (a made-up id) still answers a sign-out's close", async () => {
      const stub = convStub(`made-up-${crypto.randomUUID()}`);
      // Asked for anything, it finds no conversation and erases its storage, tables and all.
      expect(await stub.history("nobody", undefined, 10)).toBeNull();
      await expect(stub.closeSession("s-gone")).resolves.toBeUndefined();
    });

    it("a sign-out removes the session from storage before it is answered: after a restart it is asked about and refused", async () => {
      const { alice, conv } = await checkedThenRestarted();
      expect((await api("POST", "/api/logout", alice.token)).status).toBeLessThan(300);
      // Nothing left to find, with no wait: the removal was part of the sign-out's call.
      expect(await stored(conv.id, alice)).toEqual([]);
      await evictDurableObject(convStub(conv.id));
      const log = await callsTo(alice, ["admitSocket"]);
      expect(await (await connect(`/chat/${conv.id}`, alice)).closed()).toBe(4401);
      expect(log).toEqual(["admitSocket"]);
    });
  });
});
