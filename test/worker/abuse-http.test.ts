/**
 * The HTTP side of PROTOCOL.md 7.5 and issue 12: the per-user request budget (at its edge and
 * under parallel requests), Origin and Content-Type checks on state-changing requests, the
 * __Host- cookie and HSTS over https only, and the session expiry that sockets are closed on.
 */
import { env, evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { CLOSE, DEFAULT_LIMITS } from "../../protocol";
import { expiresFromHeader, SESSION_EXPIRES_HEADER, sessionExpired, sessionSecret } from "../../worker/auth/session";
import { DEV_SESSION_SECRET } from "../../worker/auth/token";
import { ApiError } from "../../worker/errors";
import { limitsFromEnv } from "../../worker/config";
import { FLUSH_DELAY_MS } from "../../worker/user/hit-window";
import { api, BASE, connect, signup, spend, uniqueName, userStub, writesDuring, type Account } from "./helpers";

/** Rows the user's `http_hits` table holds (what a restarted object would find). */
const storedHits = (account: Account) =>
  runInDurableObject(userStub(account.username), (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM http_hits").one().n);

const BUDGET = limitsFromEnv(env).httpPerMinute;

async function status(res: Response | Promise<Response>): Promise<number> {
  const r = await res;
  await r.arrayBuffer();
  return r.status;
}

describe("HTTP requests per user", () => {
  it(`the default is ${DEFAULT_LIMITS.httpPerMinute} a minute`, () => {
    expect(BUDGET).toBe(DEFAULT_LIMITS.httpPerMinute);
  });

  it("every request counts: the last allowed one passes, the next is 429 with Retry-After and the JSON error", async () => {
    const alice = await signup("budget");
    const bob = await signup("budget");
    for (let i = 0; i < 10; i++) expect(await status(api("GET", "/api/me", alice.token))).toBe(200);
    await spend(alice, BUDGET - 11);
    expect(await status(api("GET", "/api/conversations", alice.token))).toBe(200);
    const refused = await api("GET", "/api/me", alice.token);
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get("Retry-After"));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    expect(await refused.json()).toEqual({ error: { code: "rate_limited", message: expect.any(String) } });
    // Per user: another user is not affected; and signing out always works.
    expect(await status(api("GET", "/api/me", bob.token))).toBe(200);
    expect(await status(api("POST", "/api/logout", alice.token))).toBe(204);
  });

  it("50 requests at once with 7 left in the budget: exactly 7 pass", async () => {
    const carol = await signup("budget");
    await spend(carol, BUDGET - 7);
    const all = await Promise.all(Array.from({ length: 50 }, () => status(api("GET", "/api/me", carol.token))));
    expect(all.filter((s) => s === 200)).toHaveLength(7);
    expect(all.filter((s) => s === 429)).toHaveLength(43);
  });

  it("socket upgrades count too: over budget the socket is closed with 4429", async () => {
    const dave = await signup("budget");
    await spend(dave, BUDGET);
    const inbox = await connect("/inbox", dave);
    expect(await inbox.closed()).toBe(CLOSE.TOO_MANY_SOCKETS);
  });
});

describe("the request budget is kept in memory (issue 17)", () => {
  it("a request waits for no durable write: the window is written a moment later, in one batch", async () => {
    const erin = await signup("budget");
    expect(await status(api("GET", "/api/me", erin.token))).toBe(200); // the session's last use is written once
    await vi.waitFor(async () => expect(await storedHits(erin)).toBe(1), { timeout: FLUSH_DELAY_MS * 5, interval: 100 });
    const onRequests = await writesDuring(userStub(erin), async () => {
      for (let i = 0; i < 5; i++) expect(await status(api("GET", "/api/me", erin.token))).toBe(200);
    });
    const later = await writesDuring(userStub(erin), async () => {
      await vi.waitFor(async () => expect(await storedHits(erin)).toBe(6), { timeout: FLUSH_DELAY_MS * 5, interval: 100 });
    });
    expect(onRequests).toEqual([]);
    expect(later.filter((q) => /INSERT INTO http_hits/.test(q))).toHaveLength(1);
  });

  it("a restart hands out no fresh budget: what was taken is found again", async () => {
    const fay = await signup("budget");
    await spend(fay, BUDGET - 3);
    for (let i = 0; i < 3; i++) expect(await status(api("GET", "/api/me", fay.token))).toBe(200);
    await vi.waitFor(async () => expect(await storedHits(fay)).toBe(BUDGET), { timeout: FLUSH_DELAY_MS * 5, interval: 100 });
    await evictDurableObject(userStub(fay.username));
    expect(await status(api("GET", "/api/me", fay.token))).toBe(429);
  });
});

describe("Origin and Content-Type on state-changing requests", () => {
  // Sign-up: a state-changing JSON route that needs no conversation object.
  const signupWith = (headers: Record<string, string>, body: string | null = JSON.stringify({ username: uniqueName("o"), password: "password 123" })) =>
    SELF.fetch(`${BASE}/api/signup`, { method: "POST", headers, body });

  it("a foreign browser Origin is refused (403) before anything is done; own, allowed and absent origins pass", async () => {
    const alice = await signup("origin");
    const evil = await signupWith({ Origin: "https://evil.example", "Content-Type": "application/json" });
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    expect(evil.headers.get("Set-Cookie")).toBeNull();
    const login = await SELF.fetch(`${BASE}/api/login`, {
      method: "POST",
      headers: { Origin: "https://evil.example", "Content-Type": "application/json" },
      body: JSON.stringify({ username: alice.username, password: "correct horse battery" }),
    });
    expect(login.status).toBe(403);
    expect(login.headers.get("Set-Cookie")).toBeNull();
    const logout = SELF.fetch(`${BASE}/api/logout`, { method: "POST", headers: { Origin: "https://evil.example", Cookie: `session=${alice.token}` } });
    expect(await status(logout)).toBe(403);
    expect(await status(api("GET", "/api/me", alice.token))).toBe(200);
    for (const origin of [BASE, "https://allowed.example"]) {
      expect(await status(signupWith({ Origin: origin, "Content-Type": "application/json" }))).toBe(201);
    }
    expect(await status(signupWith({ "Content-Type": "application/json" }))).toBe(201);
    // Reads are not state-changing: a foreign Origin may not read them anyway (no CORS headers).
    expect(await status(SELF.fetch(`${BASE}/api/me`, { headers: { Authorization: `Bearer ${alice.token}`, Origin: "https://evil.example" } }))).toBe(200);
  });

  it("a JSON route with a body that is not application/json is refused with 415", async () => {
    const alice = await signup("ctype");
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const res = await signupWith({ "Content-Type": type });
      expect({ type, status: res.status }).toEqual({ type, status: 415 });
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid");
    }
    // A body with no type at all, as a form or a beacon might send.
    expect(await status(signupWith({}))).toBe(415);
    // A form-typed POST with no body (a cross-site form to log out or join) is refused too.
    expect(await status(SELF.fetch(`${BASE}/api/logout`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: `session=${alice.token}` } }))).toBe(415);
    expect(await status(api("GET", "/api/me", alice.token))).toBe(200);
    // JSON with a charset, and body-less requests without a type, pass.
    expect(await status(signupWith({ "Content-Type": "application/json; charset=utf-8" }))).toBe(201);
    expect(await status(api("POST", "/api/logout", alice.token))).toBe(204);
  });

  it("raw-bytes routes (file uploads) are not held to JSON", async () => {
    const alice = await signup("raw");
    const res = await SELF.fetch(`${BASE}/api/conversations/r${"a".repeat(32)}/files`, {
      method: "POST",
      headers: { Authorization: `Bearer ${alice.token}`, "Content-Type": "image/png" },
      body: new Uint8Array([137, 80, 78, 71]),
    });
    await res.arrayBuffer();
    expect(res.status).not.toBe(415);
  });
});

describe("cookie and transport", () => {
  it("over https: a __Host- Secure cookie and HSTS", async () => {
    const res = await api("POST", "/api/signup", undefined, { username: uniqueName("https"), password: "password 123" });
    expect(res.status).toBe(201);
    expect(res.headers.get("Set-Cookie")).toMatch(/^__Host-session=[^;]+; HttpOnly; SameSite=Lax; Path=\/; Max-Age=\d+; Secure$/);
    expect(res.headers.get("Strict-Transport-Security")).toBe("max-age=31536000");
    const notFound = await api("GET", "/api/nothing");
    expect(notFound.headers.get("Strict-Transport-Security")).toBe("max-age=31536000");
  });

  it("over http on 127.0.0.1 (wrangler dev): a plain `session` cookie that works, and no HSTS", async () => {
    const http = "http://127.0.0.1:8787";
    const res = await SELF.fetch(`${http}/api/signup`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: uniqueName("http"), password: "password 123" }),
    });
    expect(res.status).toBe(201);
    const cookie = res.headers.get("Set-Cookie") ?? "";
    expect(cookie).toMatch(/^session=[^;]+; HttpOnly; SameSite=Lax; Path=\/; Max-Age=\d+$/);
    expect(res.headers.get("Strict-Transport-Security")).toBeNull();
    const me = await SELF.fetch(`${http}/api/me`, { headers: { Cookie: cookie.split(";")[0]! } });
    expect(me.status).toBe(200);
  });

  it("either cookie name is read, the __Host- one first", async () => {
    const alice = await signup("names");
    const me = (cookie: string) => status(SELF.fetch(`${BASE}/api/me`, { headers: { Cookie: cookie } }));
    expect(await me(`__Host-session=${alice.token}`)).toBe(200);
    expect(await me(`session=${alice.token}`)).toBe(200);
    expect(await me(`__Host-session=${alice.token}; session=garbage`)).toBe(200);
  });

  it("a deployment without SESSION_SECRET signs nothing (503 config); only loopback uses the development secret", () => {
    expect(() => sessionSecret({}, new URL("https://chat.example.org/api/login"))).toThrow(ApiError);
    expect(() => sessionSecret({ SESSION_SECRET: "too short" }, new URL("https://chat.example.org/"))).toThrow(/SESSION_SECRET/);
    expect(sessionSecret({}, new URL("http://127.0.0.1:8787/"))).toBe(DEV_SESSION_SECRET);
    expect(sessionSecret({ SESSION_SECRET: "a-real-secret-0123456789" }, new URL("https://chat.example.org/"))).toBe("a-real-secret-0123456789");
  });

  it("sessionExpired: true once the expiry the upgrade carried has passed, never without one", () => {
    const now = 1_000_000;
    expect(sessionExpired({ expires: now - 1 }, now)).toBe(true);
    expect(sessionExpired({ expires: now }, now)).toBe(true);
    expect(sessionExpired({ expires: now + 1 }, now)).toBe(false);
    expect(sessionExpired({}, now)).toBe(false);
    const withHeader = (v: string) => new Request(BASE, { headers: { [SESSION_EXPIRES_HEADER]: v } });
    expect(expiresFromHeader(withHeader("1234"))).toBe(1234);
    expect(expiresFromHeader(withHeader("12x"))).toBeUndefined();
    expect(expiresFromHeader(new Request(BASE))).toBeUndefined();
  });
});
