/**
 * Abuse limits on the account routes (PROTOCOL.md 7.5): per-address and per-username limits that
 * hold under 50 parallel requests, each at its edge; a log-in lockout that answers a made-up
 * username exactly as it answers a real one; expired sessions pruned.
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addressLimits, usernameLimiter } from "../../worker/limiter";
import { SESSION_PRUNE_BATCH } from "../../worker/user/account";
import { BASE, signup, uniqueName } from "./helpers";

const PASSWORD = "correct horse battery";
const limits = addressLimits(env);

function post(path: string, body: unknown, ip?: string): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (ip) headers["CF-Connecting-IP"] = ip;
  return SELF.fetch(`${BASE}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
}

const addressLimiter = (ip: string) => env.LIMITERS.get(env.LIMITERS.idFromName(`addr:${ip}`));

/** Puts `count` events of `kind` in a limiter's window (the test environment lifts the address limits). */
async function fill(stub: DurableObjectStub, kind: string, count: number): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) INSERT INTO hits (kind, at) SELECT ?, ? FROM n",
      count, kind, Date.now(),
    );
  });
}

/** Status counts of responses, their bodies drained. */
async function statuses(responses: Response[]): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  for (const res of responses) {
    await res.arrayBuffer();
    counts[res.status] = (counts[res.status] ?? 0) + 1;
  }
  return counts;
}

describe("per-address limits under parallel requests", () => {
  it("sign-ups: with 3 left in the window, 50 at once make exactly 3 accounts", async () => {
    const ip = "198.51.100.31";
    await fill(addressLimiter(ip), "signup", limits.signup.max - 3);
    const all = await Promise.all(Array.from({ length: 50 }, () => post("/api/signup", { username: uniqueName("par"), password: PASSWORD }, ip)));
    expect(await statuses(all)).toEqual({ 201: 3, 429: 47 });
  });

  it("sign-ups at the edge: the last one allowed passes, the next is refused with Retry-After", async () => {
    const ip = "198.51.100.32";
    await fill(addressLimiter(ip), "signup", limits.signup.max - 1);
    expect((await post("/api/signup", { username: uniqueName("edge"), password: PASSWORD }, ip)).status).toBe(201);
    const refused = await post("/api/signup", { username: uniqueName("edge"), password: PASSWORD }, ip);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await refused.json()).toEqual({ error: { code: "rate_limited", message: expect.any(String) } });
  });

  it("a taken username does not count against the address", async () => {
    const ip = "198.51.100.33";
    const taken = await signup("tk");
    await fill(addressLimiter(ip), "signup", limits.signup.max - 1);
    expect((await post("/api/signup", { username: taken.username, password: PASSWORD }, ip)).status).toBe(409);
    expect((await post("/api/signup", { username: uniqueName("ok"), password: PASSWORD }, ip)).status).toBe(201);
  });

  it("failed log-ins: with 5 left, 50 wrong passwords at once get 5 answers of 401 and 45 of 429", async () => {
    const ip = "198.51.100.34";
    await fill(addressLimiter(ip), "login", limits.login.max - 5);
    const all = await Promise.all(Array.from({ length: 50 }, () => post("/api/login", { username: uniqueName("spray"), password: PASSWORD }, ip)));
    expect(await statuses(all)).toEqual({ 401: 5, 429: 45 });
  });

  it("a successful log-in gives its attempt back to the address", async () => {
    const ip = "198.51.100.35";
    const account = await signup("ok");
    await fill(addressLimiter(ip), "login", limits.login.max - 1);
    for (let i = 0; i < 3; i++) expect((await post("/api/login", { username: account.username, password: PASSWORD }, ip)).status).toBe(200);
    // The one attempt left is still there for a failure, and then the address is refused.
    expect((await post("/api/login", { username: account.username, password: "wrong password" }, ip)).status).toBe(401);
    expect((await post("/api/login", { username: account.username, password: PASSWORD }, ip)).status).toBe(429);
  });
});

describe("per-username lockout", () => {
  it("50 wrong passwords at once for one username: exactly the limit get 401, the rest 429", async () => {
    const victim = await signup("par");
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => post("/api/login", { username: victim.username, password: `wrong ${i} password` })));
    expect(await statuses(all)).toEqual({ 401: limits.username.max, 429: 50 - limits.username.max });
  });

  it("answers a made-up username exactly as a real one: status, body and headers, attempt by attempt", async () => {
    const real = await signup("real");
    const madeUp = uniqueName("ghost");
    const seen: { status: number; body: string; headers: [string, string][] }[][] = [[], []];
    for (let i = 0; i < limits.username.max + 2; i++) {
      for (const [k, username] of [real.username, madeUp].entries()) {
        const res = await post("/api/login", { username, password: `wrong ${i} password` });
        seen[k]!.push({ status: res.status, body: await res.text(), headers: [...res.headers].sort() });
      }
    }
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[0]!.map((s) => s.status)).toEqual([...Array(limits.username.max).fill(401), 429, 429]);
    const locked = seen[0]![limits.username.max]!;
    expect(JSON.parse(locked.body)).toEqual({ error: { code: "rate_limited", message: "too many failed attempts; try again later" } });
    expect(locked.headers).toContainEqual(["retry-after", String(limits.username.windowMs / 1000)]);
    // Even the right password is refused while locked, and the answer carries no token.
    const right = await post("/api/login", { username: real.username, password: PASSWORD });
    expect(right.status).toBe(429);
    expect(await right.text()).toBe(locked.body);
  });

  it("the lockout is counted in a limiter shard, never in the user's object", async () => {
    const victim = await signup("shard");
    expect((await post("/api/login", { username: victim.username, password: "wrong password" })).status).toBe(401);
    const { stub, kind } = usernameLimiter(env, victim.username);
    const rows = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("SELECT count(*) AS n FROM hits WHERE kind = ?", kind).one().n);
    expect(rows).toBe(1);
    // A success clears the username's failures.
    expect((await post("/api/login", { username: victim.username, password: PASSWORD })).status).toBe(200);
    const after = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("SELECT count(*) AS n FROM hits WHERE kind = ?", kind).one().n);
    expect(after).toBe(0);
  });
});

describe("sessions", () => {
  it("a log-in prunes dead sessions, a bounded batch at a time", async () => {
    const account = await signup("prune");
    const stub = env.USERS.get(env.USERS.idFromName(account.username));
    const dead = SESSION_PRUNE_BATCH + 5;
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) INSERT INTO sessions (id, created, expires, revoked) SELECT 'dead' || x, 1, 2, x % 2 FROM n",
        dead,
      );
    });
    const count = () => runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE id LIKE 'dead%'").one().n);
    expect((await post("/api/login", { username: account.username, password: PASSWORD })).status).toBe(200);
    expect(await count()).toBe(dead - SESSION_PRUNE_BATCH);
    expect((await post("/api/login", { username: account.username, password: PASSWORD })).status).toBe(200);
    expect(await count()).toBe(0);
    // Live sessions are kept: the sign-up's token still works.
    expect((await SELF.fetch(`${BASE}/api/me`, { headers: { Authorization: `Bearer ${account.token}` } })).status).toBe(200);
  });
});
