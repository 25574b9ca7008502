/**
 * Security: what never leaves. The password hash never appears in an API response or a frame;
 * only sign-up and log-in hand out a token; no log line carries a password, a token or a message
 * body (the Worker and its objects run in the test's isolate, so console output is captured here);
 * API responses carry the security headers. (The static index gets its headers from
 * web/public/_headers, applied by the assets server, which SELF here does not run: the fault run
 * checks them under `wrangler dev`, see test/faults/headers.mjs.)
 *
 * The flows run once, in `beforeAll`, and each test reads what they left: no test depends on
 * another having run first (each passes alone, `-t`, and in any order, `--sequence.shuffle`).
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SECURITY_HEADERS } from "../../worker/security-headers";
import { BASE, closeAll, connect, convStub, join, room, signup, uniqueName, type Account, type TestClient } from "./helpers";
import { keysOf } from "../keys";

const PASSWORD = "correct horse battery";
const BODY = "zq-private-body-4fd1";

/** Every HTTP response of the flows below: where it came from, its headers and body. */
interface Seen {
  what: string;
  headers: string;
  body: string;
}
const seen: Seen[] = [];
const logged: string[] = [];
const issued: string[] = [];
/** What the flows made: the two accounts and the sockets they used (closed by then). */
const flows: { alice?: Account; bob?: Account; sockets: TestClient[] } = { sockets: [] };

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await SELF.fetch(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  seen.push({ what: `${method} ${path} ${res.status}`, headers: JSON.stringify([...res.headers]), body: text });
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
}

async function account(prefix: string): Promise<Account> {
  const username = uniqueName(prefix);
  const res = await call("POST", "/api/signup", undefined, { username, password: PASSWORD });
  expect(res.status).toBe(201);
  const token = (res.json as { token: string }).token;
  issued.push(token);
  return { username, token };
}

async function hashOf(username: string): Promise<{ salt: string; hash: string }> {
  const stub = env.USERS.get(env.USERS.idFromName(username));
  return runInDurableObject(stub, (_instance, state) => state.storage.sql.exec<{ salt: string; hash: string }>("SELECT salt, hash FROM account").one());
}

const framesText = (...clients: TestClient[]) => JSON.stringify(clients.flatMap((c) => c.frames));

/** Accounts, conversations, messages, sockets and errors, with every response and frame kept. */
async function runFlows(): Promise<void> {
  const alice = await account("lk");
  const bob = await account("lk");
  flows.alice = alice;
  flows.bob = bob;
  expect((await call("POST", "/api/signup", undefined, { username: alice.username, password: PASSWORD })).status).toBe(409);
  expect((await call("POST", "/api/login", undefined, { username: alice.username, password: "wrong password!" })).status).toBe(401);
  const login = await call("POST", "/api/login", undefined, { username: alice.username, password: PASSWORD });
  expect(login.status).toBe(200);
  issued.push((login.json as { token: string }).token);
  await call("GET", "/api/me", alice.token);
  const dm = await call("POST", "/api/conversations", alice.token, { kind: "dm", with: bob.username });
  const dmId = (dm.json as { conversation: { id: string } }).conversation.id;
  const made = await call("POST", "/api/conversations", alice.token, { kind: "room", title: "leaks" });
  const roomId = (made.json as { conversation: { id: string } }).conversation.id;
  await call("POST", `/api/conversations/${roomId}/members`, alice.token, { username: bob.username });
  await call("POST", `/api/conversations/${roomId}/join`, bob.token);

  const a = await join(roomId, alice);
  const b = await join(roomId, bob);
  const inbox = await connect("/inbox", bob);
  await inbox.next("inbox");
  flows.sockets = [a, b, inbox];
  a.send({ t: "send", id: "leak-1", body: `${BODY} one` });
  await b.next("msg", (m) => m.id === "leak-1");
  a.send({ t: "send", id: "leak-2", body: "" }); // refused: invalid
  await a.next("error", (e) => e.id === "leak-2");
  a.sendRaw(new Uint8Array([0xc1])); // refused: bad frame
  await a.next("error", (e) => e.code === "bad_frame");

  await call("GET", "/api/conversations", bob.token);
  await call("GET", `/api/conversations/${roomId}/messages`, bob.token);
  await call("GET", `/api/conversations/${roomId}/search?q=private`, bob.token);
  await call("GET", `/api/conversations/${dmId}/messages`, bob.token);
  await call("GET", "/api/nothing-here", bob.token);
  await call("POST", "/api/conversations", bob.token, { kind: "dm", with: "nobody-at-all" });
  await call("POST", "/api/logout", bob.token);
  await closeAll(a, b, inbox);
}

beforeAll(async () => {
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.name}: ${a.message}` : JSON.stringify(a))).join(" "));
    });
  }
  await runFlows();
}, 60_000);

afterAll(() => {
  vi.restoreAllMocks();
});

describe("what never leaves", () => {
  it("the flows ran: accounts, conversations, messages, sockets, errors", () => {
    expect(flows.alice && flows.bob).toBeTruthy();
    expect(seen.length).toBeGreaterThan(15);
    expect(issued.length).toBe(3);
    expect(flows.sockets.flatMap((c) => c.frames).some((f) => f.t === "msg")).toBe(true);
    expect(flows.sockets.flatMap((c) => c.frames).some((f) => f.t === "error")).toBe(true);
  });

  it("never sends the password, its hash or its salt, in any response or frame", async () => {
    const everything = [...seen.map((s) => `${s.headers}\n${s.body}`), framesText(...flows.sockets)].join("\n");
    for (const user of [flows.alice!, flows.bob!]) {
      const { salt, hash } = await hashOf(user.username);
      expect(hash.length).toBeGreaterThan(20);
      expect(everything).not.toContain(hash);
      expect(everything).not.toContain(salt);
    }
    expect(everything).not.toContain(PASSWORD);
    for (const s of seen) {
      const keys = s.body.startsWith("{") ? keysOf(JSON.parse(s.body)) : new Set<string>();
      for (const k of ["password", "hash", "salt", "iterations"]) expect(keys.has(k), `${s.what} has a ${k} field`).toBe(false);
    }
  });

  it("hands out a token only in the answers to sign-up and log-in", () => {
    expect(issued.length).toBe(3);
    for (const s of seen) {
      const mayCarry = /^POST \/api\/(signup|login) 20[01]$/.test(s.what);
      for (const token of issued) {
        const sig = token.split(".")[2]!;
        if (!mayCarry) expect(`${s.headers}\n${s.body}`, s.what).not.toContain(sig);
      }
    }
    const frames = framesText(...flows.sockets);
    for (const token of issued) expect(frames).not.toContain(token.split(".")[2]!);
  });

  it("logs no password, token or message body, even when a frame handler fails on one", async () => {
    // Make the next insert fail with an error whose message quotes the body, as a driver might.
    const carol = await signup("lk");
    const tokens = [...issued, carol.token];
    const conv = await room(carol);
    const c = await join(conv.id, carol);
    await runInDurableObject(convStub(conv.id), (instance) => {
      instance.store.insertMessage = (_sender, _id, body) => {
        throw new Error(`constraint failed while storing ${body}`);
      };
    });
    c.send({ t: "send", id: "boom", body: `${BODY} two` });
    expect(await c.next("error", (e) => e.code === "internal")).toMatchObject({ message: "internal error" });
    await runInDurableObject(convStub(conv.id), (instance) => {
      Reflect.deleteProperty(instance.store, "insertMessage");
    });
    // The failure was logged (so this capture sees the objects' console), without the body.
    expect(logged.some((l) => l.includes("frame handler failed"))).toBe(true);
    const all = logged.join("\n");
    expect(all).not.toContain(BODY);
    expect(all).not.toContain(PASSWORD);
    for (const token of tokens) expect(all).not.toContain(token.split(".")[2]!);
    await closeAll(c);
  });

  it("sets the security headers on every API response, and no-store", () => {
    for (const s of seen) {
      const headers = new Map(JSON.parse(s.headers) as [string, string][]);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(headers.get(name.toLowerCase()), `${s.what}: ${name}`).toBe(value);
      expect(headers.get("cache-control"), s.what).toBe("no-store");
    }
    expect(SECURITY_HEADERS["Content-Security-Policy"]).toContain("default-src 'self'");
    expect(SECURITY_HEADERS["Content-Security-Policy"]).toContain("frame-ancestors 'none'");
    expect(SECURITY_HEADERS["Content-Security-Policy"]).not.toContain("unsafe-inline");
  });
});
