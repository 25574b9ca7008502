/**
 * Security: who gets in. Cross-site sockets are refused by Origin; forged, expired and revoked
 * tokens are refused on HTTP (401) and on sockets (4401); logging out closes the session's open
 * sockets; log-in attempts are rate limited per username and per address.
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CLOSE } from "../../protocol";
import { signToken } from "../../worker/auth/token";
import { addressLimits } from "../../worker/limiter";
import { api, BASE, closeAll, connect, join, room, signup, uniqueName, type Account } from "./helpers";

const PASSWORD = "correct horse battery";

/** The claims inside a token (payload `{u, s, e}`, base64url JSON): read, not verified. */
function claimsOf(token: string): { u: string; s: string; e: number } {
  const payload = token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/");
  return JSON.parse(atob(payload)) as { u: string; s: string; e: number };
}

function secret(): string {
  if (!env.SESSION_SECRET) throw new Error("the test environment sets SESSION_SECRET");
  return env.SESSION_SECRET;
}

async function me(token: string): Promise<number> {
  const res = await api("GET", "/api/me", token);
  await res.arrayBuffer();
  return res.status;
}

/** The close code of a socket opened with `token` on a conversation (4401 when refused). */
async function socketCode(convId: string, token: string): Promise<number | null> {
  const c = await connect(`/chat/${convId}`, { username: "x", token });
  await c.until((frames) => frames.some((f) => f.t === "synced")).catch(() => undefined);
  if (c.closeCode !== null) return c.closeCode;
  await closeAll(c);
  return null;
}

async function login(username: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${BASE}/api/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ username, password }),
  });
}

describe("Origin", () => {
  it("refuses a socket opened from a foreign site with the visitor's cookie (4403)", async () => {
    const alice = await signup("or");
    const conv = await room(alice);
    const evil = await connect(`/chat/${conv.id}`, alice, { cookie: true, origin: "https://evil.example" });
    expect(await evil.closed()).toBe(CLOSE.FORBIDDEN);
    expect(evil.of("welcome")).toEqual([]);
    const inbox = await connect("/inbox", alice, { cookie: true, origin: "https://evil.example" });
    expect(await inbox.closed()).toBe(CLOSE.FORBIDDEN);
    expect(inbox.frames).toEqual([]);
  });

  it("serves the app's own origin and the allow-list", async () => {
    const alice = await signup("or");
    const conv = await room(alice);
    for (const origin of [BASE, "https://allowed.example"]) {
      const c = await join(conv.id, alice, { cookie: true, origin });
      expect(c.of("welcome")).toHaveLength(1);
      await closeAll(c);
    }
  });
});

describe("tokens", () => {
  it("a token signed with the test secret works: the forgeries below fail for what they change", async () => {
    const alice = await signup("tk");
    const { s } = claimsOf(alice.token);
    const remade = await signToken({ username: alice.username, session: s, expires: Date.now() + 60_000 }, secret());
    expect(await me(remade)).toBe(200);
  });

  it("refuses forged tokens on HTTP (401) and on sockets (4401)", async () => {
    const alice = await signup("tk");
    const bob = await signup("tk");
    const conv = await room(bob, [alice]);
    const { s, e } = claimsOf(alice.token);
    const [v, payload, sig] = alice.token.split(".");
    const flipped = sig!.slice(0, -2) + (sig!.endsWith("AA") ? "BB" : "AA");
    const forgeries = {
      "a changed signature": `${v}.${payload}.${flipped}`,
      "another secret": await signToken({ username: alice.username, session: s, expires: e }, "not-the-secret-0123456789"),
      "bob's name on alice's signature": `${v}.${btoa(JSON.stringify({ u: bob.username, s, e })).replaceAll("=", "")}.${sig}`,
      "no signature": `${v}.${payload}.`,
      "garbage": "v1.x.y",
      "an over-long token": `v1.${"A".repeat(600)}.${sig}`,
    };
    for (const [what, token] of Object.entries(forgeries)) {
      expect(await me(token), what).toBe(401);
      expect(await socketCode(conv.id, token), what).toBe(CLOSE.UNAUTHORIZED);
    }
  });

  it("refuses an expired token on HTTP and on sockets", async () => {
    const alice = await signup("tk");
    const conv = await room(alice);
    const { s } = claimsOf(alice.token);
    const expired = await signToken({ username: alice.username, session: s, expires: Date.now() - 1000 }, secret());
    expect(await me(expired)).toBe(401);
    expect(await socketCode(conv.id, expired)).toBe(CLOSE.UNAUTHORIZED);
    const res = await api("GET", "/api/conversations", expired);
    expect(res.status).toBe(401);
  });

  it("refuses a well-signed token for a session the user object does not know", async () => {
    const alice = await signup("tk");
    const made = await signToken({ username: alice.username, session: "never-issued", expires: Date.now() + 60_000 }, secret());
    expect(await me(made)).toBe(401);
  });

  it("logout revokes the session everywhere and closes its open sockets, not the others'", async () => {
    const alice = await signup("rv");
    const conv = await room(alice);
    const res = await login(alice.username, PASSWORD);
    expect(res.status).toBe(200);
    const second: Account = { username: alice.username, token: ((await res.json()) as { token: string }).token };

    const keep = await join(conv.id, alice);
    const doomed = await join(conv.id, second);
    const doomedInbox = await connect("/inbox", second);
    await doomedInbox.next("inbox");

    const out = await api("POST", "/api/logout", second.token);
    expect(out.status).toBe(204);
    expect(await doomed.closed()).toBe(CLOSE.UNAUTHORIZED);
    expect(await doomedInbox.closed()).toBe(CLOSE.UNAUTHORIZED);

    expect(await me(second.token)).toBe(401);
    expect(await socketCode(conv.id, second.token)).toBe(CLOSE.UNAUTHORIZED);
    // The other session is untouched.
    expect(await me(alice.token)).toBe(200);
    keep.send({ t: "send", id: "still-in", body: "still signed in" });
    await keep.next("ack", (f) => f.id === "still-in");
    expect(keep.closeCode).toBeNull();
    await closeAll(keep);
  });
});

describe("log-in limits", () => {
  it("rate limits failed log-ins per username (429), even with the right password after", async () => {
    const victim = await signup("rl");
    const bystander = await signup("rl");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await login(victim.username, `wrong password ${i}`);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    const right = await login(victim.username, PASSWORD);
    expect(right.status).toBe(429);
    expect(await right.text()).not.toContain("token");
    // Per username: someone else's log-in is not affected.
    expect((await login(bystander.username, PASSWORD)).status).toBe(200);
  });

  // Spraying one password over many usernames from one address (worker/limiter.ts). The test
  // environment lifts the limit to 100 000, so the window is topped up in the limiter's storage.
  it("rate limits failed log-ins per address across usernames (429)", async () => {
    const ip = "203.0.113.7";
    const headers = { "CF-Connecting-IP": ip };
    const limiter = env.LIMITERS.get(env.LIMITERS.idFromName(`addr:${ip}`));
    const count = () => runInDurableObject(limiter, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM hits WHERE kind = 'login'").one().n);
    const start = await count().catch(() => 0);
    for (let i = 0; i < 5; i++) {
      const res = await login(uniqueName("spray"), "a common password", headers);
      await res.arrayBuffer();
      expect(res.status).toBe(401);
    }
    // Every failure counts, unknown usernames included.
    expect((await count()) - start).toBe(5);
    const max = addressLimits(env).login.max;
    await runInDurableObject(limiter, (_i, state) => {
      state.storage.sql.exec(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) INSERT INTO hits (kind, at) SELECT 'login', ? FROM n",
        max - start - 5, Date.now(),
      );
    });
    const victim = await signup("spray");
    const refused = await login(victim.username, PASSWORD, headers);
    expect(refused.status).toBe(429);
    expect(await refused.text()).not.toContain("token");
    // Another address is not affected.
    expect((await login(victim.username, PASSWORD, { "CF-Connecting-IP": "198.51.100.9" })).status).toBe(200);
  });
});
