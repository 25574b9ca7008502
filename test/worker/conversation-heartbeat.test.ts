/**
 * Heartbeat (PROTOCOL.md section 3): `ping` is answered `pong`; the object's alarm closes sockets
 * that have been silent for two intervals. Silence is made by moving a socket's recorded times
 * back (in its attachment), not by waiting, so the test does not depend on the clock.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SUBPROTOCOL_JSON } from "../../protocol";
import { readAttachment, writeAttachment } from "../../worker/sockets";
import { closeAll, convStub, join, room, signup } from "./helpers";

/** Makes every socket of `username` look silent since `ago` ms. */
async function backdate(convId: string, username: string, ago: number): Promise<number> {
  return runInDurableObject(convStub(convId), (_instance, state) => {
    const sockets = state.getWebSockets(username);
    for (const ws of sockets) {
      const a = readAttachment(ws);
      if (!a) throw new Error("socket without an attachment");
      const then = Date.now() - ago;
      writeAttachment(ws, { ...a, opened: then, seen: then });
    }
    return sockets.length;
  });
}

describe("heartbeat", () => {
  it("a `ping` text frame is answered `pong`, on both subprotocols", async () => {
    const alice = await signup("alice");
    const conv = await room(alice);
    const m = await join(conv.id, alice);
    const j = await join(conv.id, alice, { protocol: SUBPROTOCOL_JSON });
    for (const c of [m, j]) {
      c.sendRaw("ping");
      await c.until(() => c.pongs === 1);
      c.sendRaw("ping");
      await c.until(() => c.pongs === 2);
      // A ping is not a frame: no error, nothing else.
      expect(c.of("error")).toEqual([]);
    }
    await closeAll(m, j);
  });

  it("the alarm closes sockets silent for two intervals, and only those", async () => {
    const [alice, bob, carol, dave] = [await signup("alice"), await signup("bob"), await signup("carol"), await signup("dave")];
    const conv = await room(alice, [bob, carol, dave]);
    const silent = await join(conv.id, alice);
    const pinger = await join(conv.id, bob);
    const talker = await join(conv.id, carol);
    const fresh = await join(conv.id, dave);
    const heartbeatMs = await runInDurableObject(convStub(conv.id), (instance) => instance.limits.heartbeatMs);
    const old = 3 * heartbeatMs;
    for (const u of [alice, bob, carol]) expect(await backdate(conv.id, u.username, old)).toBe(1);
    // Bob's client pings (answered by the runtime); carol sends a real frame.
    pinger.sendRaw("ping");
    await pinger.until(() => pinger.pongs === 1);
    talker.send({ t: "typing" });
    await fresh.next("typing", (f) => f.username === carol.username);

    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    expect(await silent.closed()).toBe(1001);
    // The others hear that alice went offline, and are still served.
    await fresh.next("presence", (p) => p.username === alice.username && !p.online);
    fresh.send({ t: "send", id: "after-alarm", body: "still here" });
    for (const c of [pinger, talker, fresh]) await c.next("msg", (m) => m.id === "after-alarm");
    expect([pinger, talker, fresh].map((c) => c.closeCode)).toEqual([null, null, null]);
    // Sockets remain, so the alarm is armed again.
    const next = await runInDurableObject(convStub(conv.id), (_i, state) => state.storage.getAlarm());
    expect(next).not.toBeNull();
    await closeAll(pinger, talker, fresh);
  });

  it("what a socket's attachment records survives hibernation: a socket silent before an eviction is closed after it", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await room(alice, [bob]);
    const silent = await join(conv.id, alice);
    const fresh = await join(conv.id, bob);
    const heartbeatMs = await runInDurableObject(convStub(conv.id), (instance) => instance.limits.heartbeatMs);
    expect(await backdate(conv.id, alice.username, 3 * heartbeatMs)).toBe(1);
    // The woken object has only what was stored (attachments are kept in memory while awake).
    await evictDurableObject(convStub(conv.id));
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    expect(await silent.closed()).toBe(1001);
    expect(fresh.closeCode).toBe(null);
    await closeAll(fresh);
  });

  it("with a lowered interval, every socket that stays silent is closed at the next alarm", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await room(alice, [bob]);
    const a = await join(conv.id, alice);
    const b = await join(conv.id, bob);
    await runInDurableObject(convStub(conv.id), (instance) => {
      instance.limits = { ...instance.limits, heartbeatMs: 1 };
    });
    // Two intervals of 1 ms: anything recorded before now - 2 ms is stale; backdate to be sure.
    await backdate(conv.id, alice.username, 10);
    await backdate(conv.id, bob.username, 10);
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    expect(await a.closed()).toBe(1001);
    expect(await b.closed()).toBe(1001);
  });
});
