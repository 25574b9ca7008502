/**
 * PROTOCOL.md 7.6, delivery: a new message from someone else reaches each subscription whose
 * session has no socket open, as RFC 8291 `aes128gcm` with a VAPID token (the stand-in push
 * service checks what a browser and a push service would), with the payload of 7.6; nothing
 * while that session has a socket open, nothing for a muted conversation; 404/410 drop the
 * subscription, 429 is retried; logout drops it; an `ack` never waits for a push.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PushPayload } from "../../protocol";
import { api, closeAll, connect, dm, join, room, sendAll, signup, type Account } from "./helpers";
import {
  browserSubscription,
  decryptPush,
  eventually,
  pushesTo,
  pushSettled,
  release,
  script,
  standInEndpoint,
  storedSubscriptions,
  subscribe,
  userStub,
  verifyVapid,
  waitForPushes,
  type BrowserSubscription,
} from "./push-helpers";

const PASSWORD = "correct horse battery";

async function serverKey(): Promise<string> {
  return ((await (await api("GET", "/api/push/key")).json()) as { publicKey: string }).publicKey;
}

/** A subscription of `who`'s session (its token) on a fresh stand-in endpoint. */
async function subscribed(who: Account): Promise<{ id: string; endpoint: string; sub: BrowserSubscription }> {
  const { id, endpoint } = standInEndpoint();
  const sub = await browserSubscription(endpoint);
  expect((await subscribe(who, sub.body)).status).toBe(201);
  return { id, endpoint, sub };
}

/** Another session of the same account (another device). */
async function anotherDevice(a: Account): Promise<Account> {
  const res = await api("POST", "/api/login", undefined, { username: a.username, password: PASSWORD });
  return { username: a.username, token: ((await res.json()) as { token: string }).token };
}

async function rename(a: Account, name: string): Promise<void> {
  expect((await api("PATCH", "/api/me", a.token, { name })).status).toBe(200);
}

describe("a push for a new message", () => {
  it("DM: VAPID for the endpoint's origin, aes128gcm that decrypts to {conv, seq, from, title, preview}, TTL a day, Urgency high, a Topic per conversation", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    await rename(ann, "Ann Example");
    const d = await dm(ann, ben);
    const { id, endpoint, sub } = await subscribed(ben);
    const a = await join(d.id, ann);
    const [seq] = await sendAll(a, ["hello ben 👋"]);
    const [push] = await waitForPushes(id, 1);
    const claims = await verifyVapid(push!, endpoint, await serverKey());
    expect(claims.sub).toMatch(/^(mailto:|https?:)/);
    expect(push!.headers["content-encoding"]).toBe("aes128gcm");
    expect(push!.headers.ttl).toBe("86400");
    expect(push!.headers.urgency).toBe("high");
    expect(push!.headers.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    const payload: PushPayload = { conv: d.id, seq: seq!, from: "Ann Example", title: "Ann Example", preview: "hello ben 👋" };
    expect(await decryptPush(push!, sub)).toEqual(payload);
    // Another message of the same conversation: the same Topic (the service replaces, not piles up).
    const [seq2] = await sendAll(a, ["second"]);
    const pushes = await waitForPushes(id, 2);
    expect(pushes[1]!.headers.topic).toBe(push!.headers.topic);
    expect(await decryptPush(pushes[1]!, sub)).toMatchObject({ seq: seq2, preview: "second" });
    // The sender's own messages never push to the sender.
    expect(await storedSubscriptions(ann.username)).toEqual([]);
    await closeAll(a);
  });

  it("room: title is the room's, from the sender's display name, Urgency normal, another Topic", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    await rename(ann, "Ann R");
    const r = await room(ann, [ben]);
    const d = await dm(ann, ben);
    const { id, sub } = await subscribed(ben);
    const a = await join(r.id, ann);
    const [seq] = await sendAll(a, ["hi room"]);
    const [push] = await waitForPushes(id, 1);
    expect(push!.headers.urgency).toBe("normal");
    expect(await decryptPush(push!, sub)).toEqual({ conv: r.id, seq, from: "Ann R", title: "Room", preview: "hi room" });
    const b = await join(d.id, ann);
    await sendAll(b, ["in the DM"]);
    const pushes = await waitForPushes(id, 2);
    expect(pushes[1]!.headers.topic).not.toBe(push!.headers.topic);
    await closeAll(a, b);
  });

  it("carries an empty preview when the user turned previews off", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ann, ben);
    expect((await api("PATCH", "/api/me", ben.token, { previews: false })).status).toBe(200);
    const { id, sub } = await subscribed(ben);
    const a = await join(d.id, ann);
    const [seq] = await sendAll(a, ["a secret"]);
    const [push] = await waitForPushes(id, 1);
    expect(await decryptPush(push!, sub)).toEqual({ conv: d.id, seq, from: ann.username, title: ann.username, preview: "" });
    await closeAll(a);
  });
});

describe("who gets a push", () => {
  it("not a session with its inbox open; another session of the same user still does; after the inbox closes it does again", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ann, ben);
    const phone = await anotherDevice(ben);
    const laptop = await subscribed(ben);
    const away = await subscribed(phone);
    const inbox = await connect("/inbox", ben);
    await inbox.next("inbox");
    const a = await join(d.id, ann);
    const [s1] = await sendAll(a, ["while the laptop looks"]);
    await waitForPushes(away.id, 1);
    await pushSettled(ben.username, d.id, s1!);
    expect(await pushesTo(laptop.id)).toEqual([]);
    await closeAll(inbox);
    await eventually(async () => (await runInDurableObject(userStub(ben.username), (i) => i.presenceState())).watching === false, "the inbox gone");
    const [s2] = await sendAll(a, ["now it is away"]);
    const [push] = await waitForPushes(laptop.id, 1);
    expect(((await decryptPush(push!, laptop.sub)) as PushPayload).seq).toBe(s2);
    await closeAll(a);
  });

  it("not a session with a conversation socket open (any conversation); again once it closed", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ann, ben);
    const r = await room(ann, [ben]);
    const laptop = await subscribed(ben);
    // Ben looks at the room: a message in the DM does not push to that device either.
    const b = await join(r.id, ben);
    await eventually(async () => (await runInDurableObject(userStub(ben.username), (i) => [...i.pushSenderLooking().sessions])).length === 1, "the room's lease");
    const a = await join(d.id, ann);
    const [s1] = await sendAll(a, ["are you there"]);
    await pushSettled(ben.username, d.id, s1!);
    expect(await pushesTo(laptop.id)).toEqual([]);
    await closeAll(b);
    await eventually(async () => (await runInDurableObject(userStub(ben.username), (i) => [...i.pushSenderLooking().sessions])).length === 0, "the lease gone");
    const [s2] = await sendAll(a, ["gone now"]);
    const [push] = await waitForPushes(laptop.id, 1);
    expect(((await decryptPush(push!, laptop.sub)) as PushPayload).seq).toBe(s2);
    await closeAll(a);
  });

  it("nothing for a muted conversation; unmuted, it pushes again", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ann, ben);
    const laptop = await subscribed(ben);
    expect((await api("PATCH", `/api/conversations/${d.id}/settings`, ben.token, { muted: true })).status).toBe(200);
    const a = await join(d.id, ann);
    const [s1] = await sendAll(a, ["muted one"]);
    await pushSettled(ben.username, d.id, s1!);
    expect(await pushesTo(laptop.id)).toEqual([]);
    // Still counted unread.
    const list = (await (await api("GET", "/api/conversations", ben.token)).json()) as { conversations: { id: string; unread: number }[] };
    expect(list.conversations.find((c) => c.id === d.id)?.unread).toBe(1);
    expect((await api("PATCH", `/api/conversations/${d.id}/settings`, ben.token, { muted: false })).status).toBe(200);
    const [s2] = await sendAll(a, ["unmuted one"]);
    const [push] = await waitForPushes(laptop.id, 1);
    expect(((await decryptPush(push!, laptop.sub)) as PushPayload).seq).toBe(s2);
    await closeAll(a);
  });

  it("logout drops the session's subscription: that device gets nothing, the other still does", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ann, ben);
    const phone = await anotherDevice(ben);
    const laptop = await subscribed(ben);
    const away = await subscribed(phone);
    expect((await api("POST", "/api/logout", ben.token)).status).toBe(204);
    const a = await join(d.id, ann);
    const [s1] = await sendAll(a, ["after logout"]);
    await waitForPushes(away.id, 1);
    await pushSettled(ben.username, d.id, s1!);
    expect(await pushesTo(laptop.id)).toEqual([]);
    await closeAll(a);
  });

  it("a session that expired gets nothing, and its subscription goes", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ann, ben);
    const phone = await anotherDevice(ben);
    const laptop = await subscribed(ben);
    const away = await subscribed(phone);
    await runInDurableObject(userStub(ben.username), (_i, state) => {
      state.storage.sql.exec("UPDATE sessions SET expires = 1 WHERE id = (SELECT session FROM push_subs WHERE endpoint = ?)", laptop.endpoint);
    });
    const a = await join(d.id, ann);
    const [s1] = await sendAll(a, ["still there?"]);
    await waitForPushes(away.id, 1);
    await pushSettled(ben.username, d.id, s1!);
    expect(await pushesTo(laptop.id)).toEqual([]);
    expect((await storedSubscriptions(ben.username)).map((s) => s.endpoint)).toEqual([away.endpoint]);
    await closeAll(a);
  });
});

describe("the push service's answers", () => {
  for (const status of [404, 410]) {
    it(`${status} drops the subscription, and nothing more is sent to it`, async () => {
      const [ann, ben] = [await signup("ann"), await signup("ben")];
      const d = await dm(ann, ben);
      const laptop = await subscribed(ben);
      await script(laptop.id, [status]);
      const a = await join(d.id, ann);
      await sendAll(a, ["first"]);
      await waitForPushes(laptop.id, 1);
      await eventually(async () => (await storedSubscriptions(ben.username)).length === 0, "the subscription dropped");
      // No subscription left: the conversations stop telling ben's object about messages.
      await eventually(async () => (await runInDurableObject(userStub(ben.username), (i) => i.presenceState())).push === false, "push announced off");
      const [s2] = await sendAll(a, ["second"]);
      await pushSettled(ben.username, d.id, 0);
      expect(s2).toBeGreaterThan(0);
      expect((await pushesTo(laptop.id)).length).toBe(1);
      await closeAll(a);
    });
  }

  it("429 and 5xx are retried from the alarm until one succeeds; the same payload arrives", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ann, ben);
    const laptop = await subscribed(ben);
    await script(laptop.id, [429, 503]);
    const a = await join(d.id, ann);
    const [seq] = await sendAll(a, ["try again"]);
    const outbox = () =>
      runInDurableObject(userStub(ben.username), (_i, state) =>
        state.storage.sql.exec<{ attempts: number; due: number }>("SELECT attempts, due FROM push_outbox").toArray(),
      );
    for (const n of [1, 2]) {
      await waitForPushes(laptop.id, n);
      await eventually(async () => (await outbox())[0]?.attempts === n, `attempt ${n} recorded`);
      // Waiting for its backoff (Retry-After 1 s, then 30 s or more): time passes.
      expect((await outbox())[0]!.due).toBeGreaterThan(Date.now());
      await runInDurableObject(userStub(ben.username), (_i, state) => state.storage.sql.exec("UPDATE push_outbox SET due = 0"));
      await runDurableObjectAlarm(userStub(ben.username));
    }
    const pushes = await waitForPushes(laptop.id, 3);
    for (const p of pushes) expect(await decryptPush(p, laptop.sub)).toMatchObject({ conv: d.id, seq, preview: "try again" });
    await eventually(async () => (await outbox()).length === 0, "the outbox empty");
    expect(await storedSubscriptions(ben.username)).toHaveLength(1);
    await closeAll(a);
  });
});

describe("pushing is off the message path", () => {
  it("an endpoint that never answers holds up no ack, and no other device's inbox", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ann, ben);
    const laptop = await subscribed(ben);
    await script(laptop.id, ["hang"]);
    const phone = await anotherDevice(ben);
    const inbox = await connect("/inbox", phone);
    await inbox.next("inbox");
    const a = await join(d.id, ann);
    await sendAll(a, ["one"]);
    await waitForPushes(laptop.id, 1);
    // The push hangs; every later send is acknowledged and reaches the other device's inbox.
    const seqs = await sendAll(a, ["two", "three", "four"]);
    expect(seqs).toHaveLength(3);
    await inbox.next("activity", (f) => f.seq === seqs[2]);
    expect(await runInDurableObject(userStub(ben.username), (i) => i.pushSender.busy())).toBe(1);
    // Once it answers, the newest message (coalesced while it hung) follows.
    await release(laptop.id);
    const pushes = await waitForPushes(laptop.id, 2);
    expect(await decryptPush(pushes[1]!, laptop.sub)).toMatchObject({ seq: seqs[2], preview: "four" });
    await closeAll(a, inbox);
  });
});
