/**
 * Conversations over HTTP (PROTOCOL.md section 2): DMs, public and private rooms, joining and
 * inviting, history pages, and the conversation list.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Message, Summary } from "../../protocol";
import { api, closeAll, convStub, dm, join, room, signup, type Account } from "./helpers";

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function errorCode(res: Response): Promise<string> {
  return (await json<{ error: { code: string; message: string } }>(res)).error.code;
}

async function list(who: Account): Promise<Summary[]> {
  const res = await api("GET", "/api/conversations", who.token);
  expect(res.status).toBe(200);
  return (await json<{ conversations: Summary[] }>(res)).conversations;
}

/** Sends through a socket and waits for each ack; returns the acks' seqs and times. */
async function post(convId: string, who: Account, bodies: string[]): Promise<{ seq: number; ts: number }[]> {
  const c = await join(convId, who);
  const out: { seq: number; ts: number }[] = [];
  for (const [i, body] of bodies.entries()) {
    const id = `h${i}-${Math.random().toString(36).slice(2)}`;
    c.send({ t: "send", id, body });
    const ack = await c.next("ack", (a) => a.id === id);
    out.push({ seq: ack.seq, ts: ack.ts });
  }
  await closeAll(c);
  return out;
}

/** Lets the conversation finish telling its members' indexes about new messages. */
async function settle(convId: string): Promise<void> {
  await runInDurableObject(convStub(convId), (instance) => instance.notifier.settle());
}

/** Waits until the clock has passed `ts`, so that the next event's time is strictly later. */
async function clockPast(ts: number): Promise<void> {
  while (Date.now() <= ts) await new Promise((r) => setTimeout(r, 1));
}

describe("direct messages", () => {
  it("asked for twice, by either side, is the same conversation: 201 then 200", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const first = await api("POST", "/api/conversations", alice.token, { kind: "dm", with: bob.username });
    expect(first.status).toBe(201);
    const conv = (await json<{ conversation: Summary }>(first)).conversation;
    expect(conv).toMatchObject({ kind: "dm", peer: bob.username, title: bob.username, lastSeq: 0, readSeq: 0, unread: 0 });
    const again = await api("POST", "/api/conversations", alice.token, { kind: "dm", with: bob.username.toUpperCase() });
    expect(again.status).toBe(200);
    expect((await json<{ conversation: Summary }>(again)).conversation.id).toBe(conv.id);
    const reverse = await api("POST", "/api/conversations", bob.token, { kind: "dm", with: alice.username });
    expect(reverse.status).toBe(200);
    const theirs = (await json<{ conversation: Summary }>(reverse)).conversation;
    expect(theirs).toMatchObject({ id: conv.id, peer: alice.username });
    // Asking again neither adds a member nor an event.
    const c = await join(conv.id, alice, { since: 0 });
    expect(c.of("welcome")[0]!.members.map((m) => m.username).sort()).toEqual([alice.username, bob.username].sort());
    expect(c.of("synced")[0]).toMatchObject({ lastSeq: 0 });
    await closeAll(c);
    expect((await list(alice)).filter((s) => s.id === conv.id)).toHaveLength(1);
    expect((await list(bob)).filter((s) => s.id === conv.id)).toHaveLength(1);
  });

  it("refuses a DM with oneself (400), with nobody (404), and malformed requests (400)", async () => {
    const alice = await signup("alice");
    const self = await api("POST", "/api/conversations", alice.token, { kind: "dm", with: alice.username });
    expect(self.status).toBe(400);
    expect(await errorCode(self)).toBe("invalid");
    const ghost = await api("POST", "/api/conversations", alice.token, { kind: "dm", with: "no-such-user-here" });
    expect(ghost.status).toBe(404);
    expect(await errorCode(ghost)).toBe("not_found");
    for (const body of [{ kind: "group" }, { kind: "dm" }, { kind: "room" }, { kind: "room", title: "" }, { kind: "room", title: "x", private: "yes" }]) {
      const res = await api("POST", "/api/conversations", alice.token, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    expect((await api("POST", "/api/conversations", undefined, { kind: "room", title: "x" })).status).toBe(401);
  });
});

describe("rooms", () => {
  it("public: anyone joins (200, twice is fine); private: 403 until a member invites", async () => {
    const owner = await signup("owner");
    const carol = await signup("carol");
    const dave = await signup("dave");
    const pub = await room(owner);
    expect(pub).toMatchObject({ kind: "room", title: "Room", members: 1 });
    expect(pub.private).toBeUndefined();
    const joined = await api("POST", `/api/conversations/${pub.id}/join`, carol.token);
    expect(joined.status).toBe(200);
    expect((await json<{ conversation: Summary }>(joined)).conversation).toMatchObject({ id: pub.id, members: 2 });
    expect((await api("POST", `/api/conversations/${pub.id}/join`, carol.token)).status).toBe(200);

    const priv = await room(owner, [], true);
    expect(priv.private).toBe(true);
    const refused = await api("POST", `/api/conversations/${priv.id}/join`, carol.token);
    expect(refused.status).toBe(403);
    expect(await errorCode(refused)).toBe("forbidden");
    // A non-member cannot invite, not even themselves; to them the room is unknown (404).
    const sneaky = await api("POST", `/api/conversations/${priv.id}/members`, carol.token, { username: carol.username });
    expect(sneaky.status).toBe(404);
    expect(await errorCode(sneaky)).toBe("not_found");
    // The owner invites carol; carol, a plain member, may not add anyone to a private room (v1.1,
    // PROTOCOL.md 7.3) until the owner makes her an admin; then she invites dave.
    const invited = await api("POST", `/api/conversations/${priv.id}/members`, owner.token, { username: carol.username });
    expect(invited.status).toBe(200);
    expect((await api("POST", `/api/conversations/${priv.id}/members`, carol.token, { username: dave.username })).status).toBe(403);
    expect((await api("PUT", `/api/conversations/${priv.id}/members/${carol.username}/role`, owner.token, { role: "admin" })).status).toBe(200);
    expect((await api("POST", `/api/conversations/${priv.id}/members`, carol.token, { username: dave.username })).status).toBe(200);
    expect((await api("POST", `/api/conversations/${priv.id}/join`, carol.token)).status).toBe(200);
    // Each sees the room in their list, and their sockets are served.
    for (const who of [carol, dave]) {
      expect((await list(who)).map((s) => s.id)).toContain(priv.id);
      const c = await join(priv.id, who, { since: 0 });
      expect(c.of("member").map((m) => m.username)).toEqual([owner.username, carol.username, dave.username]);
      await closeAll(c);
    }
  });

  it("invitations: to a DM 403, of an unknown user 404, to an unknown room 404", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const carol = await signup("carol");
    const conv = await dm(alice, bob);
    const toDm = await api("POST", `/api/conversations/${conv.id}/members`, alice.token, { username: carol.username });
    expect(toDm.status).toBe(403);
    const r = await room(alice);
    expect((await api("POST", `/api/conversations/${r.id}/members`, alice.token, { username: "nobody-at-all" })).status).toBe(404);
    const unknown = `r${"ab".repeat(16)}`;
    expect((await api("POST", `/api/conversations/${unknown}/members`, alice.token, { username: bob.username })).status).toBe(404);
    expect((await api("POST", `/api/conversations/${unknown}/join`, alice.token)).status).toBe(404);
    expect((await api("POST", "/api/conversations/not-an-id/join", alice.token)).status).toBe(404);
    // Joining a DM one is not part of is forbidden.
    expect((await api("POST", `/api/conversations/${conv.id}/join`, carol.token)).status).toBe(403);
  });
});

describe("history over HTTP", () => {
  it("before/limit pages in ascending seq with `more`; members only; unknown ids 404", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const eve = await signup("eve");
    const conv = await dm(alice, bob);
    await post(conv.id, alice, Array.from({ length: 12 }, (_, i) => `m${i + 1}`));
    const page = async (query: string) => {
      const res = await api("GET", `/api/conversations/${conv.id}/messages${query}`, bob.token);
      expect(res.status).toBe(200);
      const body = await json<{ messages: Message[]; more: boolean }>(res);
      return { seqs: body.messages.map((m) => m.seq), more: body.more };
    };
    expect(await page("?limit=5")).toEqual({ seqs: [8, 9, 10, 11, 12], more: true });
    expect(await page("?before=8&limit=5")).toEqual({ seqs: [3, 4, 5, 6, 7], more: true });
    expect(await page("?before=3&limit=5")).toEqual({ seqs: [1, 2], more: false });
    expect(await page("")).toEqual({ seqs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], more: false });
    expect(await page("?limit=1000")).toEqual({ seqs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], more: false });
    const full = await json<{ messages: Message[] }>(await api("GET", `/api/conversations/${conv.id}/messages?limit=1`, bob.token));
    expect(full.messages[0]).toMatchObject({ seq: 12, id: expect.any(String), from: alice.username, body: "m12", ts: expect.any(Number) });

    for (const bad of ["?before=0", "?limit=0", "?limit=-1", "?before=abc"]) {
      const res = await api("GET", `/api/conversations/${conv.id}/messages${bad}`, bob.token);
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
    }
    // A non-member is told what an unknown id is told: nothing of the conversation, not even that it exists.
    const outsider = await api("GET", `/api/conversations/${conv.id}/messages`, eve.token);
    expect(outsider.status).toBe(404);
    expect(await errorCode(outsider)).toBe("not_found");
    expect((await api("GET", `/api/conversations/r${"0".repeat(32)}/messages`, eve.token)).status).toBe(404);
    expect((await api("GET", "/api/conversations/zzz/messages", eve.token)).status).toBe(404);
  });

  it("a limit over 100 gives 100, with `more`", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const c = await join(conv.id, alice);
    await runInDurableObject(convStub(conv.id), (instance) => {
      instance.limits = { ...instance.limits, sendsPerSecond: 1e6, sendBurst: 1e6 };
    });
    for (let i = 1; i <= 105; i++) c.send({ t: "send", id: `x${i}`, body: `x${i}` });
    await c.until((f) => f.filter((x) => x.t === "ack").length === 105, 60_000);
    await closeAll(c);
    const res = await json<{ messages: Message[]; more: boolean }>(await api("GET", `/api/conversations/${conv.id}/messages?limit=500`, bob.token));
    expect(res.messages.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 6));
    expect(res.more).toBe(true);
  }, 90_000);
});

describe("the conversation list", () => {
  it("lists my conversations as summaries, most recent activity first, with unread counts", async () => {
    const me = await signup("me");
    const bob = await signup("bob");
    const carol = await signup("carol");
    const withBob = await dm(me, bob);
    const withCarol = await dm(me, carol);
    const club = await room(me, [bob]);
    expect((await list(me)).map((s) => s.id).sort()).toEqual([withBob.id, withCarol.id, club.id].sort());

    let [last] = await post(withBob.id, bob, ["hi from bob", "are you there?"]).then((a) => a.slice(-1));
    await settle(withBob.id);
    expect((await list(me))[0]).toMatchObject({ id: withBob.id, kind: "dm", peer: bob.username, unread: 2, lastSeq: 2, last: { body: "are you there?", from: bob.username } });

    await clockPast(last!.ts);
    [last] = await post(club.id, bob, ["in the club"]);
    await settle(club.id);
    await clockPast(last!.ts);
    await post(withCarol.id, carol, ["carol here"]);
    await settle(withCarol.id);
    const order = await list(me);
    expect(order.map((s) => s.id)).toEqual([withCarol.id, club.id, withBob.id]);
    expect(order.map((s) => s.unread)).toEqual([1, 1, 2]);
    // Club: two member events, then bob's message; the member count follows the room.
    expect(order[1]).toMatchObject({ kind: "room", lastSeq: 3, members: 2, last: { body: "in the club" } });
    // Bob's own messages are not unread for him.
    expect((await list(bob)).find((s) => s.id === withBob.id)).toMatchObject({ unread: 0, lastSeq: 2 });
    // Reading moves my count to zero.
    const c = await join(withBob.id, me);
    c.send({ t: "read", seq: 2 });
    await c.next("receipt");
    await closeAll(c);
    await runInDurableObject(convStub(withBob.id), async (_i, state) => {
      // The read mark reaches my index off the send path (waitUntil); wait for the stored mark.
      expect(state.storage.sql.exec("SELECT read_seq FROM members WHERE username = ?", me.username).one().read_seq).toBe(2);
    });
    await expect.poll(async () => (await list(me)).find((s) => s.id === withBob.id)?.unread, { timeout: 10_000 }).toBe(0);
  });
});
