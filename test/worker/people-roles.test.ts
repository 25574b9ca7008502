/**
 * Issue 13, PROTOCOL.md 7.3: rooms with roles and moderation. The permission matrix (owner,
 * admin, member, non-member, banned user against every new route and the moderator's `delete`),
 * then what each allowed action does: events, sockets closed, lists told, ownership passed on.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Member, Summary } from "../../protocol";
import { api, asOlderObject, closeAll, connect, convStub, join, room, signup, type Account } from "./helpers";

type Actor = "owner" | "admin" | "member" | "outsider" | "banned";
const ACTORS: Actor[] = ["banned", "outsider", "member", "admin", "owner"];

interface Fixture {
  conv: Summary;
  who: Record<Actor, Account>;
  /** One spare member per actor, to be the target of an action that uses one up. */
  spare: Record<Actor, Account>;
}

/** A room with an owner, an admin, a member, spares, an outsider and a banned former member. */
async function fixture(isPrivate = false): Promise<Fixture> {
  const [owner, admin, member, outsider, banned] = await Promise.all(["own", "adm", "mem", "out", "ban"].map((p) => signup(p)));
  const spares = await Promise.all(ACTORS.map(() => signup("sp")));
  const conv = await room(owner!, [admin!, member!, banned!, ...spares], isPrivate);
  expect((await api("PUT", `/api/conversations/${conv.id}/members/${admin!.username}/role`, owner!.token, { role: "admin" })).status).toBe(200);
  expect((await api("PUT", `/api/conversations/${conv.id}/bans/${banned!.username}`, owner!.token)).status).toBe(204);
  const who = { owner: owner!, admin: admin!, member: member!, outsider: outsider!, banned: banned! };
  const spare = Object.fromEntries(ACTORS.map((a, i) => [a, spares[i]!])) as Record<Actor, Account>;
  return { conv, who, spare };
}

interface Cell {
  route: string;
  /** The request each actor makes (a target of its own where the action uses one up). */
  request: (f: Fixture, actor: Actor) => [method: string, path: string, body?: unknown];
  /** The expected status for owner, admin, member, outsider, banned. */
  expect: Record<Actor, number>;
  privateRoom?: boolean;
}

const OUT = { outsider: 404, banned: 404 } as const;

const MATRIX: Cell[] = [
  { route: "GET members", request: (f) => ["GET", `/api/conversations/${f.conv.id}/members`], expect: { owner: 200, admin: 200, member: 200, ...OUT } },
  { route: "PATCH room", request: (f, a) => ["PATCH", `/api/conversations/${f.conv.id}`, { topic: `set by ${a}` }], expect: { owner: 200, admin: 200, member: 403, ...OUT } },
  {
    route: "PUT role (a member made admin)",
    request: (f, a) => ["PUT", `/api/conversations/${f.conv.id}/members/${f.spare[a].username}/role`, { role: "admin" }],
    expect: { owner: 200, admin: 403, member: 403, ...OUT },
  },
  {
    route: "PUT role (admin made member)",
    request: (f) => ["PUT", `/api/conversations/${f.conv.id}/members/${f.who.admin.username}/role`, { role: "member" }],
    expect: { owner: 200, admin: 403, member: 403, ...OUT },
  },
  {
    route: "DELETE member (a member)",
    request: (f, a) => ["DELETE", `/api/conversations/${f.conv.id}/members/${f.spare[a].username}`],
    expect: { owner: 204, admin: 204, member: 403, ...OUT },
  },
  {
    route: "DELETE member (the admin)",
    request: (f) => ["DELETE", `/api/conversations/${f.conv.id}/members/${f.who.admin.username}`],
    expect: { owner: 204, admin: 403, member: 403, ...OUT },
  },
  {
    route: "DELETE member (the owner)",
    request: (f) => ["DELETE", `/api/conversations/${f.conv.id}/members/${f.who.owner.username}`],
    expect: { owner: 403, admin: 403, member: 403, ...OUT },
  },
  {
    route: "PUT ban (a member)",
    request: (f, a) => ["PUT", `/api/conversations/${f.conv.id}/bans/${f.spare[a].username}`],
    expect: { owner: 204, admin: 204, member: 403, ...OUT },
  },
  {
    route: "PUT ban (the admin)",
    request: (f) => ["PUT", `/api/conversations/${f.conv.id}/bans/${f.who.admin.username}`],
    expect: { owner: 204, admin: 403, member: 403, ...OUT },
  },
  {
    route: "DELETE ban",
    request: (f) => ["DELETE", `/api/conversations/${f.conv.id}/bans/${f.who.banned.username}`],
    expect: { owner: 204, admin: 204, member: 403, ...OUT },
  },
  { route: "GET bans", request: (f) => ["GET", `/api/conversations/${f.conv.id}/bans`], expect: { owner: 200, admin: 200, member: 403, ...OUT } },
  {
    route: "POST members (invite, public room)",
    request: (f, a) => ["POST", `/api/conversations/${f.conv.id}/members`, { username: f.spare[a].username }],
    expect: { owner: 200, admin: 200, member: 200, ...OUT },
  },
  {
    route: "POST members (invite, private room)",
    request: (f, a) => ["POST", `/api/conversations/${f.conv.id}/members`, { username: f.spare[a].username }],
    expect: { owner: 200, admin: 200, member: 403, ...OUT },
    privateRoom: true,
  },
  { route: "DELETE room", request: (f) => ["DELETE", `/api/conversations/${f.conv.id}`], expect: { owner: 204, admin: 403, member: 403, ...OUT } },
];

describe("the permission matrix of 7.3", () => {
  for (const cell of MATRIX) {
    it(`${cell.route}: owner ${cell.expect.owner}, admin ${cell.expect.admin}, member ${cell.expect.member}, non-member ${cell.expect.outsider}, banned ${cell.expect.banned}`, async () => {
      const f = await fixture(cell.privateRoom);
      // In this order: the refusals first, so that an allowed action cannot hide one (the owner last).
      const got: Partial<Record<Actor, number>> = {};
      for (const actor of ACTORS) {
        const [method, path, body] = cell.request(f, actor);
        const res = await api(method, path, f.who[actor].token, body);
        got[actor] = res.status;
        if (res.status >= 400) {
          const err = (await res.json()) as { error: { code: string; message: string } };
          expect(err.error.message.length, `${cell.route} by ${actor}`).toBeGreaterThan(0);
          expect(err.error.code).toBe(res.status === 404 ? "not_found" : "forbidden");
        }
      }
      expect(got).toEqual(cell.expect);
    });
  }

  it("join: a non-member joins a public room (200); a banned user is refused 403 banned, and cannot be invited back", async () => {
    const f = await fixture();
    expect((await api("POST", `/api/conversations/${f.conv.id}/join`, f.who.outsider.token)).status).toBe(200);
    const res = await api("POST", `/api/conversations/${f.conv.id}/join`, f.who.banned.token);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("banned");
    const invite = await api("POST", `/api/conversations/${f.conv.id}/members`, f.who.owner.token, { username: f.who.banned.username });
    expect(invite.status).toBe(403);
    expect(((await invite.json()) as { error: { code: string } }).error.code).toBe("banned");
    // After an unban, they may join again.
    expect((await api("DELETE", `/api/conversations/${f.conv.id}/bans/${f.who.banned.username}`, f.who.admin.token)).status).toBe(204);
    expect((await api("POST", `/api/conversations/${f.conv.id}/join`, f.who.banned.token)).status).toBe(200);
  });

  it("sockets: a banned user and a non-member are refused (4403)", async () => {
    const f = await fixture();
    expect(await (await connect(`/chat/${f.conv.id}`, f.who.banned)).closed()).toBe(4403);
    expect(await (await connect(`/chat/${f.conv.id}`, f.who.outsider)).closed()).toBe(4403);
  });

  it("the delete frame on someone else's message: owner and admin allowed (the event carries by), member refused forbidden", async () => {
    const f = await fixture();
    const author = await join(f.conv.id, f.spare.member);
    const sockets = { owner: await join(f.conv.id, f.who.owner), admin: await join(f.conv.id, f.who.admin), member: await join(f.conv.id, f.who.member) };
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      author.send({ t: "send", id: `m${i}`, body: `message ${i}` });
      seqs.push((await author.next("ack", (a) => a.id === `m${i}`)).seq);
    }
    sockets.member.send({ t: "delete", target: seqs[0] });
    expect((await sockets.member.next("error")).code).toBe("forbidden");
    sockets.admin.send({ t: "delete", target: seqs[1] });
    expect(await author.next("delete", (d) => d.target === seqs[1])).toMatchObject({ by: f.who.admin.username });
    sockets.owner.send({ t: "delete", target: seqs[2] });
    expect(await author.next("delete", (d) => d.target === seqs[2])).toMatchObject({ by: f.who.owner.username });
    // The member's refused delete stored nothing; the others are gone, and replayed with `by`.
    const page = (await (await api("GET", `/api/conversations/${f.conv.id}/messages`, f.who.member.token)).json()) as { messages: { seq: number; deleted?: boolean }[] };
    expect(page.messages.filter((m) => seqs.includes(m.seq)).map((m) => m.deleted ?? false)).toEqual([false, true, true]);
    const replay = await join(f.conv.id, f.who.member, { since: seqs[2] });
    expect(replay.of("delete").map((d) => d.by)).toEqual([f.who.admin.username, f.who.owner.username]);
    // An author's own delete carries no `by`.
    author.send({ t: "send", id: "own", body: "mine" });
    const own = (await author.next("ack", (a) => a.id === "own")).seq;
    author.send({ t: "delete", target: own });
    expect((await author.next("delete", (d) => d.target === own)).by).toBeUndefined();
    await closeAll(author, replay, ...Object.values(sockets));
  });
});

async function members(conv: string, token: string): Promise<Member[]> {
  return ((await (await api("GET", `/api/conversations/${conv}/members`, token)).json()) as { members: Member[] }).members;
}

async function listOf(a: Account): Promise<Summary[]> {
  return ((await (await api("GET", "/api/conversations", a.token)).json()) as { conversations: Summary[] }).conversations;
}

describe("what moderation does", () => {
  it("roles: the creator owns the room; role events; welcome, the members route and the summary carry role", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const conv = await room(ann, [ben]);
    expect(conv.role).toBe("owner");
    const a = await join(conv.id, ann, { since: 0 });
    expect(a.of("welcome")[0]!.members.map((m) => [m.username, m.role])).toEqual([[ann.username, "owner"], [ben.username, "member"]]);
    expect((await api("PUT", `/api/conversations/${conv.id}/members/${ben.username}/role`, ann.token, { role: "admin" })).status).toBe(200);
    const ev = await a.next("role");
    expect(ev).toMatchObject({ username: ben.username, role: "admin", by: ann.username });
    expect((await members(conv.id, ann.token)).find((m) => m.username === ben.username)?.role).toBe("admin");
    expect((await listOf(ben)).find((s) => s.id === conv.id)?.role).toBe("admin");
    // Hand ownership over: two events, the new owner's first; the old owner is an admin.
    expect((await api("PUT", `/api/conversations/${conv.id}/members/${ben.username}/role`, ann.token, { role: "owner" })).status).toBe(200);
    await a.until((f) => f.filter((x) => x.t === "role").length === 3);
    expect(a.of("role").slice(1).map((r) => [r.username, r.role])).toEqual([[ben.username, "owner"], [ann.username, "admin"]]);
    expect((await members(conv.id, ben.token)).map((m) => m.role)).toEqual(["admin", "owner"]);
    // Replayed like every event, with the same seqs.
    const again = await join(conv.id, ben, { since: 0 });
    expect(again.of("role").map((r) => r.seq)).toEqual(a.of("role").map((r) => r.seq));
    await closeAll(a, again);
  });

  it("a room made before roles existed is owned by its longest-standing member", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const conv = await room(ann, [ben]);
    // As an older object stored it: everyone a plain member. The schema install, when the object
    // next starts, adopts an owner.
    await runInDurableObject(convStub(conv.id), (_i, state) => {
      state.storage.sql.exec("UPDATE members SET role = 'member'");
      asOlderObject(state.storage.sql);
    });
    await evictDurableObject(convStub(conv.id));
    expect((await members(conv.id, ben.token)).map((m) => [m.username, m.role])).toEqual([[ann.username, "owner"], [ben.username, "member"]]);
  });

  it("room settings: a room event, replayed; the summary carries title and topic; the directory follows privacy", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const conv = await room(ann, [ben]);
    const b = await join(conv.id, ben);
    const inbox = await connect("/inbox", ben);
    await inbox.next("inbox");
    const res = await api("PATCH", `/api/conversations/${conv.id}`, ann.token, { title: "Plans", topic: "Q3", private: true });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { conversation: Summary }).conversation).toMatchObject({ title: "Plans", topic: "Q3", private: true });
    expect(await b.next("room")).toMatchObject({ title: "Plans", topic: "Q3", private: true, by: ann.username });
    // Ben's list shows it (his open inbox hears it as `joined` with the new summary).
    expect((await inbox.next("joined", (j) => j.conversation.title === "Plans")).conversation.topic).toBe("Q3");
    const dir = (await (await api("GET", `/api/conversations/public?q=Plans`, ann.token)).json()) as { rooms: { id: string }[] };
    expect(dir.rooms.map((r) => r.id)).not.toContain(conv.id);
    const replay = await join(conv.id, ben, { since: 0 });
    expect(replay.of("room")).toHaveLength(1);
    // Invalid bodies: 400.
    expect((await api("PATCH", `/api/conversations/${conv.id}`, ann.token, {})).status).toBe(400);
    expect((await api("PATCH", `/api/conversations/${conv.id}`, ann.token, { title: "" })).status).toBe(400);
    await closeAll(b, inbox, replay);
  });

  it("removal: a member event with by, the member's sockets close 4403, their list drops the room; a public room can be joined again", async () => {
    const [ann, ben, cat] = [await signup("ann"), await signup("ben"), await signup("cat")];
    const conv = await room(ann, [ben, cat]);
    const b = await join(conv.id, ben);
    const c = await join(conv.id, cat);
    const inbox = await connect("/inbox", ben);
    await inbox.next("inbox");
    expect((await api("DELETE", `/api/conversations/${conv.id}/members/${ben.username}`, ann.token)).status).toBe(204);
    expect(await b.closed()).toBe(4403);
    // The removed member's own socket got the event (who removed them) before it closed.
    expect(b.of("member").find((m) => !m.joined)).toMatchObject({ username: ben.username, by: ann.username });
    expect(await c.next("member", (m) => !m.joined)).toMatchObject({ username: ben.username, by: ann.username });
    await inbox.next("left", (l) => l.conv === conv.id);
    expect((await listOf(ben)).map((s) => s.id)).not.toContain(conv.id);
    expect((await api("GET", `/api/conversations/${conv.id}/messages`, ben.token)).status).toBe(404);
    expect((await api("POST", `/api/conversations/${conv.id}/join`, ben.token)).status).toBe(200);
    // Not a member: 404 for a removal.
    expect((await api("DELETE", `/api/conversations/${conv.id}/members/nobody-here`, ann.token)).status).toBe(404);
    await closeAll(c, inbox);
  });

  it("the owner leaves: the longest-standing admin becomes owner (a role event); else the longest-standing member", async () => {
    const [ann, ben, cat, dan] = [await signup("ann"), await signup("ben"), await signup("cat"), await signup("dan")];
    const conv = await room(ann, [ben, cat, dan]);
    expect((await api("PUT", `/api/conversations/${conv.id}/members/${dan.username}/role`, ann.token, { role: "admin" })).status).toBe(200);
    const c = await join(conv.id, cat);
    expect((await api("POST", `/api/conversations/${conv.id}/leave`, ann.token)).status).toBe(204);
    expect(await c.next("role", (r) => r.role === "owner")).toMatchObject({ username: dan.username, by: ann.username });
    expect((await members(conv.id, cat.token)).find((m) => m.username === dan.username)?.role).toBe("owner");
    expect((await listOf(dan)).find((s) => s.id === conv.id)?.role).toBe("owner");
    // No admin left: the longest-standing member (ben, invited before cat).
    expect((await api("POST", `/api/conversations/${conv.id}/leave`, dan.token)).status).toBe(204);
    expect(await c.next("role", (r) => r.role === "owner" && r.username !== dan.username)).toMatchObject({ username: ben.username, by: dan.username });
    await closeAll(c);
  });

  it("room deletion: every socket closes 4404, the room leaves every list (also after a failed call), storage is erased, then 404 everywhere", async () => {
    const [ann, ben, cat] = [await signup("ann"), await signup("ben"), await signup("cat")];
    const conv = await room(ann, [ben, cat]);
    const b = await join(conv.id, ben);
    const inbox = await connect("/inbox", ben);
    await inbox.next("inbox");
    // Cat's object fails the first removal call: the conversation keeps a note and its alarm retries.
    const { UserObject } = await import("../../worker/user");
    const original = UserObject.prototype.removeConversation;
    let failed = 0;
    UserObject.prototype.removeConversation = function (this: InstanceType<typeof UserObject>, id: string, seq: number) {
      if (this.profile()?.username === cat.username && failed++ === 0) throw new Error("fault");
      return original.call(this, id, seq);
    };
    try {
      expect((await api("DELETE", `/api/conversations/${conv.id}`, ann.token)).status).toBe(204);
    } finally {
      UserObject.prototype.removeConversation = original;
    }
    expect(await b.closed()).toBe(4404);
    await inbox.next("left", (l) => l.conv === conv.id);
    expect(failed).toBe(1);
    expect((await listOf(ann)).map((s) => s.id)).not.toContain(conv.id);
    // Still owed to cat: the storage is kept for the note until the alarm's retry lands.
    await runDurableObjectAlarm(convStub(conv.id));
    await runInDurableObject(convStub(conv.id), () => {});
    const stub = env.USERS.get(env.USERS.idFromName(cat.username));
    await expect.poll(async () => (await stub.summaries()).map((s) => s.id)).not.toContain(conv.id);
    await expect.poll(() => runInDurableObject(convStub(conv.id), (_i, state) => state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE name = 'messages'").one().n)).toBe(0);
    for (const a of [ann, ben, cat]) {
      expect((await api("GET", `/api/conversations/${conv.id}/messages`, a.token)).status).toBe(404);
      expect((await api("POST", `/api/conversations/${conv.id}/join`, a.token)).status).toBe(404);
    }
    expect(await (await connect(`/chat/${conv.id}`, ann)).closed()).toBe(4404);
    await closeAll(inbox);
  });
});
