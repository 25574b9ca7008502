/**
 * Strangers cost nothing (PROTOCOL.md 7.5): a request that names an account or a conversation that
 * does not exist stores nothing. And the caps: conversations per user, rooms created a day, the
 * room directory's LIKE pattern within 50 bytes, no search below three characters.
 *
 * Storage, as the local runtime keeps it: one SQLite file per object that was ever instantiated
 * (listDurableObjectIds lists them). The deployed platform keeps nothing for an object whose
 * database is empty, so an object that erased itself (no table left) counts as no storage; the
 * check reads its live instance, which a fresh instance would fail (its constructor makes tables).
 */
import { env, listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { likePattern, LIKE_PATTERN_MAX_BYTES } from "../../worker/directory";
import { limitsFromEnv } from "../../worker/config";
import { dmId as dmIdOf } from "../../worker/ids";
import { api, connect, dm, join, room, signup, uniqueName, type Account } from "./helpers";

const LIMITS = limitsFromEnv(env);

async function ids(ns: DurableObjectNamespace): Promise<Set<string>> {
  return new Set((await listDurableObjectIds(ns)).map((id) => id.toString()));
}

/** Objects of `ns` that appeared since `before` and still hold a table. */
async function storedSince(ns: DurableObjectNamespace, before: Set<string>): Promise<string[]> {
  const held: string[] = [];
  for (const id of await listDurableObjectIds(ns)) {
    if (before.has(id.toString())) continue;
    const tables = await runInDurableObject(ns.get(id), (_i, state) => state.storage.sql.exec("SELECT name FROM sqlite_master").toArray().length);
    if (tables > 0) held.push(id.toString());
  }
  return held;
}

async function drained(res: Promise<Response>): Promise<number> {
  const r = await res;
  await r.arrayBuffer();
  return r.status;
}

describe("no storage for names and ids that do not exist", () => {
  it("log-in, DM and invitation naming made-up users leave no user object with storage", async () => {
    const alice = await signup("st");
    const conv = await room(alice);
    const before = await ids(env.USERS);
    for (let i = 0; i < 3; i++) {
      expect(await drained(api("POST", "/api/login", undefined, { username: uniqueName("ghost"), password: "some password" }))).toBe(401);
      expect(await drained(api("POST", "/api/conversations", alice.token, { kind: "dm", with: uniqueName("ghost") }))).toBe(404);
      expect(await drained(api("POST", `/api/conversations/${conv.id}/members`, alice.token, { username: uniqueName("ghost") }))).toBe(404);
    }
    expect(await storedSince(env.USERS, before)).toEqual([]);
  });

  it("a made-up username can sign up after it was asked about (the erased object makes its tables again)", async () => {
    const name = uniqueName("late");
    expect(await drained(api("POST", "/api/login", undefined, { username: name, password: "some password" }))).toBe(401);
    expect(await drained(api("POST", "/api/signup", undefined, { username: name, password: "some password" }))).toBe(201);
    const res = await api("POST", "/api/login", undefined, { username: name, password: "some password" });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const late: Account = { username: name, token };
    const other = await signup("late");
    expect((await dm(late, other)).peer).toBe(other.username);
    expect(await drained(api("GET", "/api/conversations", token))).toBe(200);
  });

  it("history, search and invitations for made-up conversation ids reach no conversation object", async () => {
    const alice = await signup("st");
    const bob = await signup("st");
    const before = await ids(env.CONVERSATIONS);
    for (let i = 0; i < 3; i++) {
      const id = `r${crypto.randomUUID().replaceAll("-", "")}`;
      const dmLike = `d${crypto.randomUUID().replaceAll("-", "")}`;
      for (const conv of [id, dmLike]) {
        expect(await drained(api("GET", `/api/conversations/${conv}/messages`, alice.token))).toBe(404);
        expect(await drained(api("GET", `/api/conversations/${conv}/search?q=hello`, alice.token))).toBe(404);
        expect(await drained(api("POST", `/api/conversations/${conv}/members`, alice.token, { username: bob.username }))).toBe(404);
      }
    }
    const after = await ids(env.CONVERSATIONS);
    expect([...after].filter((x) => !before.has(x))).toEqual([]);
  });

  it("joins and sockets for made-up conversation ids leave no conversation object with storage", async () => {
    const alice = await signup("st");
    const before = await ids(env.CONVERSATIONS);
    for (let i = 0; i < 3; i++) {
      const id = `r${crypto.randomUUID().replaceAll("-", "")}`;
      expect(await drained(api("POST", `/api/conversations/${id}/join`, alice.token))).toBe(404);
      expect(await drained(api("POST", `/api/conversations/${id}/leave`, alice.token))).toBe(404);
      const socket = await connect(`/chat/${id}`, alice);
      expect(await socket.closed()).toBe(4404);
    }
    expect(await storedSince(env.CONVERSATIONS, before)).toEqual([]);
    // A conversation created after its id was asked about works (the erased object makes its
    // tables again): a room's id is random, so the object is reached by a DM's fixed id here.
    const bob = await signup("st");
    const dmId = await dmIdOf(alice.username, bob.username);
    const probe = await connect(`/chat/${dmId}`, alice);
    expect(await probe.closed()).toBe(4404);
    const conv = await dm(alice, bob);
    expect(conv.id).toBe(dmId);
    const a = await join(conv.id, alice);
    a.send({ t: "send", id: "after-wipe", body: "hello" });
    expect((await a.next("ack")).seq).toBe(1);
    a.close();
  });
});

/** Gives `account` `count` made-up conversations in its list, as if it had joined them. */
async function fillList(account: Account, count: number): Promise<void> {
  await runInDurableObject(env.USERS.get(env.USERS.idFromName(account.username)), (_i, state) => {
    state.storage.sql.exec(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) INSERT INTO convs (id, kind, title, updated) SELECT printf('r%032x', x), 'room', 'filler', 0 FROM n",
      count,
    );
  });
}

describe("caps", () => {
  it(`conversations per user (${LIMITS.conversationsPerUser}): the last one allowed is made, then 403 full for rooms, DMs, joins and invitations`, async () => {
    const alice = await signup("cap");
    const bob = await signup("cap");
    const open = await room(bob);
    const existing = await dm(alice, bob);
    await fillList(alice, LIMITS.conversationsPerUser - 2);
    expect(await drained(api("POST", "/api/conversations", alice.token, { kind: "room", title: "last one" }))).toBe(201);
    const refusals = [
      api("POST", "/api/conversations", alice.token, { kind: "room", title: "one too many" }),
      api("POST", "/api/conversations", alice.token, { kind: "dm", with: (await signup("cap")).username }),
      api("POST", `/api/conversations/${open.id}/join`, alice.token),
      api("POST", `/api/conversations/${open.id}/members`, bob.token, { username: alice.username }),
    ];
    for (const res of await Promise.all(refusals)) {
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("full");
    }
    // What she is in already keeps working.
    expect(await drained(api("POST", "/api/conversations", alice.token, { kind: "dm", with: bob.username }))).toBe(200);
    expect(await drained(api("GET", `/api/conversations/${existing.id}/messages`, alice.token))).toBe(200);
  });

  it("the cap holds under parallel requests: 50 rooms at once with 3 places left make 3", async () => {
    const alice = await signup("capp");
    await fillList(alice, LIMITS.conversationsPerUser - 3);
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => drained(api("POST", "/api/conversations", alice.token, { kind: "room", title: `race ${i}` }))));
    expect(all.filter((s) => s === 201)).toHaveLength(3);
    expect(all.filter((s) => s === 403)).toHaveLength(47);
  });

  it("... and 50 joins at once with 2 places left make 2 (joining one already joined always passes)", async () => {
    const owner = await signup("capj");
    const rooms = [];
    for (let i = 0; i < 50; i++) rooms.push(await room(owner));
    const bob = await signup("capj");
    await api("POST", `/api/conversations/${rooms[0]!.id}/join`, bob.token);
    await fillList(bob, LIMITS.conversationsPerUser - 3);
    const all = await Promise.all(rooms.map((r) => drained(api("POST", `/api/conversations/${r.id}/join`, bob.token))));
    expect(all[0]).toBe(200);
    expect(all.filter((s) => s === 200)).toHaveLength(3);
    expect(all.filter((s) => s === 403)).toHaveLength(47);
  });

  it(`rooms created per user (${LIMITS.roomsPerDay} a day): the last one passes, the next is 429 with Retry-After`, async () => {
    const alice = await signup("rooms");
    await runInDurableObject(env.USERS.get(env.USERS.idFromName(alice.username)), (_i, state) => {
      state.storage.sql.exec(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) INSERT INTO room_creations (at) SELECT ? FROM n",
        LIMITS.roomsPerDay - 1, Date.now(),
      );
    });
    expect(await drained(api("POST", "/api/conversations", alice.token, { kind: "room", title: "last today" }))).toBe(201);
    const refused = await api("POST", "/api/conversations", alice.token, { kind: "room", title: "one too many" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(23 * 3600);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    // DMs are not rooms.
    expect(await drained(api("POST", "/api/conversations", alice.token, { kind: "dm", with: (await signup("rooms")).username }))).toBe(201);
  });
});

describe("bounded queries", () => {
  const bytes = (s: string) => new TextEncoder().encode(s).length;

  it("the directory's LIKE pattern never passes 50 bytes, whatever the query", () => {
    for (const q of ["", "abc", "x".repeat(100), "%".repeat(60), "_\\%".repeat(30), "北京".repeat(30), "😀".repeat(20), "a%b_c\\d".repeat(10)]) {
      expect(bytes(likePattern(q).pattern)).toBeLessThanOrEqual(LIKE_PATTERN_MAX_BYTES);
    }
    expect(likePattern("100%_")).toEqual({ pattern: "%100\\%\\_%", whole: true });
    expect(likePattern("x".repeat(48))).toEqual({ pattern: `%${"x".repeat(48)}%`, whole: true });
    expect(likePattern("x".repeat(49)).whole).toBe(false);
  });

  it("a long directory query still finds exactly its rooms", async () => {
    const alice = await signup("dir");
    const stem = `长标题 ${uniqueName("t")} % _ `;
    const title = stem.repeat(6).slice(0, 100);
    const made = await (await api("POST", "/api/conversations", alice.token, { kind: "room", title })).json() as { conversation: { id: string } };
    const decoy = await (await api("POST", "/api/conversations", alice.token, { kind: "room", title: `${title.slice(0, 60)} and something else` })).json() as { conversation: { id: string } };
    expect(bytes(title)).toBeGreaterThan(LIKE_PATTERN_MAX_BYTES);
    const res = await api("GET", `/api/conversations/public?q=${encodeURIComponent(title)}`, alice.token);
    const { rooms } = (await res.json()) as { rooms: { id: string }[] };
    expect(rooms.map((r) => r.id)).toContain(made.conversation.id);
    expect(rooms.map((r) => r.id)).not.toContain(decoy.conversation.id);
  });
});
