/**
 * Sockets that must not be served (PROTOCOL.md sections 3 and 6): each is accepted, then closed at
 * once with the code that tells a browser why, before any frame of the conversation reaches it.
 */
import { describe, expect, it } from "vitest";
import { signToken } from "../../worker/auth/token";
import { api, BASE, closeAll, connect, convSql, dm, join, room, signup, type Account, type TestClient } from "./helpers";

/** Opens a socket that is expected to be refused: returns its close code and what it received. */
async function refused(path: string, who: Account | null, opts: Parameters<typeof connect>[2] = {}): Promise<{ code: number; client: TestClient }> {
  const client = await connect(path, who, opts);
  const code = await client.closed();
  return { code, client };
}

describe("socket refusals", () => {
  it("a non-member is closed with 4403 and sees nothing of the conversation", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const eve = await signup("eve");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    a.send({ t: "send", id: "m1", body: "private" });
    await a.next("ack");
    const { code, client } = await refused(`/chat/${conv.id}?since=0`, eve);
    expect(code).toBe(4403);
    expect(client.frames).toEqual([]);
    // Same for a private room, and for a public room not joined.
    const priv = await room(alice, [], true);
    expect((await refused(`/chat/${priv.id}`, eve)).code).toBe(4403);
    const pub = await room(alice);
    expect((await refused(`/chat/${pub.id}`, eve)).code).toBe(4403);
    // The refused sockets took nothing down, and nobody was made a member.
    a.send({ t: "send", id: "m2", body: "still here" });
    expect(await a.next("ack", (x) => x.id === "m2")).toMatchObject({ seq: 2 });
    expect(await convSql(conv.id, "SELECT username FROM members ORDER BY username")).toEqual(
      [alice.username, bob.username].sort().map((username) => ({ username })),
    );
    await closeAll(a);
  });

  it("leaving a room closes that member's open sockets with 4403 and refuses new ones", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await room(alice, [bob]);
    const a = await join(conv.id, alice);
    const b = await join(conv.id, bob);
    expect((await api("POST", `/api/conversations/${conv.id}/leave`, bob.token)).status).toBe(204);
    expect(await b.closed()).toBe(4403);
    expect(await a.next("member", (m) => m.username === bob.username && !m.joined)).toMatchObject({ seq: 3 });
    expect((await refused(`/chat/${conv.id}`, bob)).code).toBe(4403);
    // Over HTTP a former member is answered as any non-member: 404, the room not even disclosed.
    expect((await api("GET", `/api/conversations/${conv.id}/messages`, bob.token)).status).toBe(404);
    await closeAll(a);
  });

  it("no session: 4401", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const { code, client } = await refused(`/chat/${conv.id}`, null);
    expect(code).toBe(4401);
    expect(client.frames).toEqual([]);
  });

  it("a forged token: 4401, whether tampered with or signed with another secret", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const [v, payload, sig] = alice.token.split(".");
    // Someone else's name in a payload that keeps the original signature.
    const otherPayload = btoa(JSON.stringify({ u: bob.username, s: "x", e: Date.now() + 1e6 }))
      .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    const tampered = [`${v}.${otherPayload}.${sig}`, `${v}.${payload}.${sig!.slice(0, -2)}AA`, "garbage", `${v}.${payload}`];
    for (const token of tampered) {
      expect((await refused(`/chat/${conv.id}`, { username: alice.username, token })).code).toBe(4401);
    }
    // A well-formed token for a real session id, signed with the wrong key.
    const claims = JSON.parse(atob(payload!.replaceAll("-", "+").replaceAll("_", "/"))) as { u: string; s: string; e: number };
    const forged = await signToken({ username: claims.u, session: claims.s, expires: claims.e }, "another-secret-0123456789abcdef");
    expect((await refused(`/chat/${conv.id}`, { username: alice.username, token: forged })).code).toBe(4401);
    // The cookie path refuses it just the same.
    expect((await refused(`/chat/${conv.id}`, { username: alice.username, token: forged }, { cookie: true })).code).toBe(4401);
    // And the genuine token is served.
    const ok = await join(conv.id, alice, { cookie: true });
    expect(ok.of("welcome")[0]!.me).toBe(alice.username);
    await closeAll(ok);
  });

  it("logout revokes the session: its open socket is closed with 4401, a new one is refused, other sessions live on", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    // A second session of alice's (another device), which must survive the logout of the first.
    const login = await api("POST", "/api/login", undefined, { username: alice.username, password: "correct horse battery" });
    const other: Account = { username: alice.username, token: ((await login.json()) as { token: string }).token };
    const a = await join(conv.id, alice);
    const a2 = await join(conv.id, other);
    const b = await join(conv.id, bob);

    const out = await api("POST", "/api/logout", alice.token);
    expect(out.status).toBe(204);
    expect(await a.closed()).toBe(4401);
    expect((await refused(`/chat/${conv.id}`, alice)).code).toBe(4401);
    expect((await refused(`/chat/${conv.id}`, alice, { cookie: true })).code).toBe(4401);
    // The other device and the other member are still served.
    a2.send({ t: "send", id: "after-logout", body: "from the other device" });
    expect(await a2.next("ack")).toMatchObject({ id: "after-logout", seq: 1 });
    expect(await b.next("msg")).toMatchObject({ id: "after-logout", from: alice.username });
    expect(a2.closeCode).toBeNull();
    await closeAll(a2, b);
  });

  it("an unknown or malformed conversation id: 4404", async () => {
    const alice = await signup("alice");
    const unknown = `r${"0123456789abcdef".repeat(2)}`;
    expect((await refused(`/chat/${unknown}`, alice)).code).toBe(4404);
    expect((await refused(`/chat/${unknown.replace("r", "d")}`, alice)).code).toBe(4404);
    for (const bad of ["nope", "R0123456789ABCDEF0123456789ABCDEF", `r${"0".repeat(31)}`, `x${"0".repeat(32)}`, "r0123%20456"]) {
      expect((await refused(`/chat/${bad}`, alice)).code).toBe(4404);
    }
  });

  it("a foreign Origin: 4403; the app's own and an allowed one: served", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    for (const origin of ["https://evil.example", "http://chat.test", "https://chat.test.evil.example", "null"]) {
      const { code, client } = await refused(`/chat/${conv.id}`, alice, { origin, cookie: true });
      expect(code).toBe(4403);
      expect(client.frames).toEqual([]);
    }
    for (const origin of [BASE, "https://allowed.example"]) {
      const c = await join(conv.id, alice, { origin, cookie: true });
      expect(c.of("welcome")).toHaveLength(1);
      await closeAll(c);
    }
  });

  it("the 17th socket of one user on one conversation: 4429, the first 16 still served", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const open: TestClient[] = [];
    for (let i = 0; i < 16; i++) open.push(await join(conv.id, alice));
    const { code } = await refused(`/chat/${conv.id}`, alice);
    expect(code).toBe(4429);
    // Another user is not affected by alice's count.
    const b = await join(conv.id, bob);
    b.send({ t: "send", id: "hi", body: "hi" });
    await Promise.all(open.map((c) => c.next("msg", (m) => m.id === "hi")));
    expect(open.every((c) => c.closeCode === null)).toBe(true);
    // Closing one makes room for one more.
    open[0]!.close();
    await open[0]!.closed();
    const again = await join(conv.id, alice);
    expect(again.of("welcome")).toHaveLength(1);
    await closeAll(...open.slice(1), again, b);
  });
});
