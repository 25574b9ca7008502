/**
 * Accounts and sessions over HTTP (PROTOCOL.md section 1): sign-up, log-in, log-out, `me`, the
 * cookie's attributes, one answer for every failed log-in, the per-username log-in limit, and
 * JSON errors everywhere.
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { User } from "../../protocol";
import { api, BASE, uniqueName } from "./helpers";

const PASSWORD = "correct horse battery";

interface AuthBody {
  user: User;
  token: string;
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error.code).toBe("string");
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message).not.toMatch(/\n\s+at /);
  return body.error;
}

function withCookie(method: string, path: string, token: string): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { method, headers: { Cookie: `session=${token}` } });
}

async function signupAs(username: string, password = PASSWORD, name?: string): Promise<Response> {
  return api("POST", "/api/signup", undefined, name === undefined ? { username, password } : { username, password, name });
}

describe("sign-up", () => {
  it("201 with {user, token} and an HttpOnly; SameSite=Lax; Path=/ __Host- cookie (https) that signs in", async () => {
    const username = uniqueName("new");
    const res = await signupAs(username);
    expect(res.status).toBe(201);
    const body = (await res.json()) as AuthBody;
    expect(Object.keys(body).sort()).toEqual(["token", "user"]);
    expect(body.user).toEqual({ username, name: username, previews: true });
    expect(body.token).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
    const cookie = res.headers.get("Set-Cookie") ?? "";
    const parts = cookie.split(";").map((p) => p.trim());
    expect(parts[0]).toBe(`__Host-session=${body.token}`);
    expect(parts).toEqual(expect.arrayContaining(["HttpOnly", "SameSite=Lax", "Path=/", "Secure"]));
    expect(parts.find((p) => p.startsWith("Max-Age="))).toMatch(/^Max-Age=[1-9]\d*$/);
    // The token works as a bearer token and as the cookie.
    expect(await (await api("GET", "/api/me", body.token)).json()).toEqual({ user: { username, name: username, previews: true } });
    expect(await (await withCookie("GET", "/api/me", body.token)).json()).toEqual({ user: { username, name: username, previews: true } });
  });

  it("stores the username lower-case, keeps a given display name, and never stores the password", async () => {
    const base = uniqueName("Mixed");
    const res = await signupAs(`  ${base.toUpperCase()}  `, PASSWORD, "  Ada Lovelace ");
    expect(res.status).toBe(201);
    const { user } = (await res.json()) as AuthBody;
    expect(user).toEqual({ username: base.toLowerCase(), name: "Ada Lovelace", previews: true });
    const stored = await runInDurableObject(env.USERS.get(env.USERS.idFromName(base.toLowerCase())), (_i, state) =>
      state.storage.sql.exec("SELECT * FROM account").toArray(),
    );
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);
    expect(stored[0]).toMatchObject({ username: base.toLowerCase(), iterations: 100_000 });
  });

  it("409 when the name is taken, whatever its case", async () => {
    const username = uniqueName("taken");
    expect((await signupAs(username)).status).toBe(201);
    for (const again of [username, username.toUpperCase(), ` ${username} `]) {
      const res = await signupAs(again, "another password");
      expect(res.status).toBe(409);
      expect(res.headers.get("Set-Cookie")).toBeNull();
      expect((await errorOf(res)).code).toBe("taken");
    }
    // The original password still works: the failed sign-ups changed nothing.
    const login = await api("POST", "/api/login", undefined, { username, password: PASSWORD });
    expect(login.status).toBe(200);
  });

  it("400 for each invalid field, as a JSON error", async () => {
    const ok = () => uniqueName("v");
    const cases: [string, unknown][] = [
      ["username too short", { username: "ab", password: PASSWORD }],
      ["username too long", { username: "a".repeat(33), password: PASSWORD }],
      ["username with a space", { username: "a b c", password: PASSWORD }],
      ["username with a dot", { username: "a.bcd", password: PASSWORD }],
      ["username not a string", { username: 12345, password: PASSWORD }],
      ["username missing", { password: PASSWORD }],
      ["password too short", { username: ok(), password: "1234567" }],
      ["password too long", { username: ok(), password: "p".repeat(201) }],
      ["password not a string", { username: ok(), password: 12345678 }],
      ["password missing", { username: ok() }],
      ["name empty", { username: ok(), password: PASSWORD, name: "   " }],
      ["name too long", { username: ok(), password: PASSWORD, name: "n".repeat(65) }],
      ["name not a string", { username: ok(), password: PASSWORD, name: 7 }],
      ["name with a control character", { username: ok(), password: PASSWORD, name: "a\u0007b" }],
      ["body an array", [ok(), PASSWORD]],
      ["body null", null],
    ];
    for (const [what, body] of cases) {
      const res = await api("POST", "/api/signup", undefined, body);
      expect({ what, status: res.status }).toEqual({ what, status: 400 });
      expect((await errorOf(res)).code).toBe("invalid");
    }
    const notJson = await SELF.fetch(`${BASE}/api/signup`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{nope" });
    expect(notJson.status).toBe(400);
    expect((await errorOf(notJson)).code).toBe("invalid");
    // The edges are allowed.
    const three = `z${Math.random().toString(36).slice(2, 4)}`.padEnd(3, "_");
    expect((await signupAs(three, "p".repeat(8))).status).toBe(201);
    expect((await signupAs(uniqueName("edge").padEnd(32, "_").slice(0, 32), "p".repeat(200), "n".repeat(64))).status).toBe(201);
  });
});

describe("log-in, log-out and me", () => {
  it("login: 200 {user, token} and a cookie, case-insensitive username; each login is its own session", async () => {
    const username = uniqueName("login");
    await signupAs(username, PASSWORD, "Grace");
    const res = await api("POST", "/api/login", undefined, { username: username.toUpperCase(), password: PASSWORD });
    expect(res.status).toBe(200);
    const body = (await res.json()) as AuthBody;
    expect(body.user).toEqual({ username, name: "Grace", previews: true });
    expect(res.headers.get("Set-Cookie")).toMatch(new RegExp(`^__Host-session=${body.token.replaceAll(".", "\\.")}; HttpOnly; SameSite=Lax; Path=/`));
    const second = (await (await api("POST", "/api/login", undefined, { username, password: PASSWORD })).json()) as AuthBody;
    expect(second.token).not.toBe(body.token);
  });

  it("401 with the very same body for a wrong password and an unknown user", async () => {
    const username = uniqueName("pw");
    await signupAs(username);
    const wrong = await api("POST", "/api/login", undefined, { username, password: "not the password" });
    const unknown = await api("POST", "/api/login", undefined, { username: uniqueName("ghost"), password: PASSWORD });
    const malformed = await api("POST", "/api/login", undefined, { username: "x", password: PASSWORD });
    const bodies = [];
    for (const res of [wrong, unknown, malformed]) {
      expect(res.status).toBe(401);
      expect(res.headers.get("Set-Cookie")).toBeNull();
      bodies.push(await errorOf(res));
    }
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
  });

  it("logout: 204, cookie cleared, the session refused afterwards by bearer and by cookie; other sessions live", async () => {
    const username = uniqueName("out");
    const { token } = (await (await signupAs(username)).json()) as AuthBody;
    const other = ((await (await api("POST", "/api/login", undefined, { username, password: PASSWORD })).json()) as AuthBody).token;
    expect((await api("GET", "/api/me", token)).status).toBe(200);
    const out = await withCookie("POST", "/api/logout", token);
    expect(out.status).toBe(204);
    expect(await out.text()).toBe("");
    // Both names are cleared over https: a cookie set before the __Host- prefix may linger.
    expect(out.headers.getSetCookie()).toEqual([
      "__Host-session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure",
      "session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure",
    ]);
    const bearer = await api("GET", "/api/me", token);
    expect(bearer.status).toBe(401);
    expect((await errorOf(bearer)).code).toBe("unauthorized");
    expect((await withCookie("GET", "/api/me", token)).status).toBe(401);
    expect((await api("GET", "/api/conversations", token)).status).toBe(401);
    // Only that session: the other device is still signed in.
    expect((await api("GET", "/api/me", other)).status).toBe(200);
    // Logging out again, or without a session, is harmless.
    expect((await api("POST", "/api/logout", token)).status).toBe(204);
    expect((await api("POST", "/api/logout")).status).toBe(204);
  });

  it("me: 200 {user} when signed in; 401 JSON without a session or with a forged one", async () => {
    const username = uniqueName("me");
    const { token } = (await (await signupAs(username)).json()) as AuthBody;
    expect(await (await api("GET", "/api/me", token)).json()).toEqual({ user: { username, name: username, previews: true } });
    for (const bad of [undefined, "garbage", `${token.slice(0, -3)}abc`, token.replace(/^v1\./, "v2.")]) {
      const res = await api("GET", "/api/me", bad);
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe("unauthorized");
    }
  });

  it("every /api error is JSON {error: {code, message}} with the matching status", async () => {
    const res = await api("GET", "/api/nothing-here");
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("not_found");
    const noAuth = await api("GET", "/api/conversations");
    expect(noAuth.status).toBe(401);
    await errorOf(noAuth);
  });
});

describe("per-username log-in limit", () => {
  it("after 10 failures the username answers 429, even to the right password; other users are unaffected", async () => {
    const username = uniqueName("limited");
    const bystander = uniqueName("bystander");
    await signupAs(username);
    await signupAs(bystander);
    for (let i = 0; i < 10; i++) {
      const res = await api("POST", "/api/login", undefined, { username, password: `wrong ${i} password` });
      expect(res.status).toBe(401);
    }
    for (const password of ["wrong again password", PASSWORD]) {
      const res = await api("POST", "/api/login", undefined, { username, password });
      expect(res.status).toBe(429);
      expect((await errorOf(res)).code).toBe("rate_limited");
    }
    expect((await api("POST", "/api/login", undefined, { username: bystander, password: PASSWORD })).status).toBe(200);
  });
});
