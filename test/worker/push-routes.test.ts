/**
 * PROTOCOL.md 7.6, the routes: the server's public key; subscriptions checked strictly (https on
 * a public host, or the loopback stand-in when allowed; keys of the right kind and length), kept
 * per session, at most 10 per user, dropped with their session; mute per conversation (members
 * only, shown by Summary.muted and told to every inbox); and the `previews` setting of /api/me.
 */
import { describe, expect, it } from "vitest";
import type { Me, Summary } from "../../protocol";
import { checkSubscription } from "../../worker/push/subscription";
import { api, closeAll, connect, dm, room, signup } from "./helpers";
import { browserSubscription, fromB64url, storedSubscriptions, subscribe } from "./push-helpers";

const PASSWORD = "correct horse battery";
const STANDIN = "http://127.0.0.1:9/push";

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe("GET /api/push/key", () => {
  it("answers the same uncompressed P-256 public key every time, without a session", async () => {
    const first = await api("GET", "/api/push/key");
    expect(first.status).toBe(200);
    const { publicKey } = (await first.json()) as { publicKey: string };
    expect(publicKey).toMatch(/^[A-Za-z0-9_-]+$/);
    const raw = fromB64url(publicKey);
    expect(raw.length).toBe(65);
    expect(raw[0]).toBe(4);
    await crypto.subtle.importKey("raw", raw, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    expect(((await (await api("GET", "/api/push/key")).json()) as { publicKey: string }).publicKey).toBe(publicKey);
  });
});

describe("POST /api/me/push and DELETE /api/me/push", () => {
  it("stores a subscription with the caller's session; posting it again keeps one row; DELETE removes it", async () => {
    const ann = await signup("ann");
    const sub = await browserSubscription("https://push.example.com/send/abc");
    expect((await subscribe(ann, sub.body)).status).toBe(201);
    expect((await subscribe(ann, sub.body)).status).toBe(201);
    const stored = await storedSubscriptions(ann.username);
    expect(stored.map((s) => s.endpoint)).toEqual(["https://push.example.com/send/abc"]);
    expect(stored[0]!.p256dh).toBe(sub.body.keys.p256dh);
    const del = await api("DELETE", "/api/me/push", ann.token, { endpoint: sub.body.endpoint });
    expect(del.status).toBe(204);
    expect(await storedSubscriptions(ann.username)).toEqual([]);
    // Removing one that is not there is no error (the app may retry).
    expect((await api("DELETE", "/api/me/push", ann.token, { endpoint: sub.body.endpoint })).status).toBe(204);
    expect((await api("DELETE", "/api/me/push", ann.token, { endpoint: 5 })).status).toBe(400);
    expect((await api("DELETE", "/api/me/push", ann.token, { endpoint: sub.body.endpoint, more: 1 })).status).toBe(400);
  });

  it("needs a session", async () => {
    const sub = await browserSubscription("https://push.example.com/send/x");
    expect((await api("POST", "/api/me/push", undefined, sub.body)).status).toBe(401);
    expect((await api("DELETE", "/api/me/push", undefined, { endpoint: sub.body.endpoint })).status).toBe(401);
  });

  it("keeps at most 10 per user: the 11th drops the oldest", async () => {
    const ann = await signup("ann");
    for (let i = 0; i < 11; i++) expect((await subscribe(ann, (await browserSubscription(`https://push.example.com/s/${i}`)).body)).status).toBe(201);
    const endpoints = (await storedSubscriptions(ann.username)).map((s) => s.endpoint);
    expect(endpoints).toEqual(Array.from({ length: 10 }, (_, i) => `https://push.example.com/s/${i + 1}`));
  });

  it("refuses anything but a well-formed subscription to a public https endpoint, with 400 and nothing stored", async () => {
    const ann = await signup("ann");
    const good = await browserSubscription("https://push.example.com/send/ok");
    const compressed = new Uint8Array(33);
    compressed[0] = 2;
    const offCurve = new Uint8Array(65);
    offCurve[0] = 4;
    offCurve[64] = 1;
    const bad: unknown[] = [
      "not an object",
      [],
      { ...good.body, endpoint: "http://push.example.com/send" },
      { ...good.body, endpoint: "https://10.0.0.1/send" },
      { ...good.body, endpoint: "https://192.168.1.20/send" },
      { ...good.body, endpoint: "https://169.254.169.254/latest" },
      { ...good.body, endpoint: "https://[::1]/send" },
      { ...good.body, endpoint: "https://[fd00::1]/send" },
      { ...good.body, endpoint: "https://2130706433/send" },
      { ...good.body, endpoint: "https://localhost/send" },
      { ...good.body, endpoint: "https://printer.local/send" },
      { ...good.body, endpoint: "https://intranet/send" },
      { ...good.body, endpoint: "https://push.example.com:8443/send" },
      { ...good.body, endpoint: "https://user:pw@push.example.com/send" },
      { ...good.body, endpoint: "http://127.0.0.2:9/send" },
      { ...good.body, endpoint: "http://localhost:9/send" },
      { ...good.body, endpoint: "ftp://push.example.com/send" },
      { ...good.body, endpoint: `https://push.example.com/${"x".repeat(2100)}` },
      { ...good.body, endpoint: 42 },
      { ...good.body, keys: undefined },
      { ...good.body, keys: { ...good.body.keys, auth: "c2hvcnQ" } },
      { ...good.body, keys: { ...good.body.keys, auth: `${good.body.keys.auth}!` } },
      { ...good.body, keys: { ...good.body.keys, p256dh: btoa(String.fromCharCode(...compressed)) } },
      { ...good.body, keys: { ...good.body.keys, p256dh: btoa(String.fromCharCode(...offCurve)).replace(/=+$/, "") } },
      { ...good.body, keys: { ...good.body.keys, extra: "x" } },
      { ...good.body, expirationTime: "soon" },
      { ...good.body, surprise: true },
    ];
    for (const body of bad) {
      const res = await subscribe(ann, body);
      expect(res.status, JSON.stringify(body).slice(0, 120)).toBe(400);
      expect(await errorCode(res)).toBe("invalid");
    }
    expect(await storedSubscriptions(ann.username)).toEqual([]);
    // The good one passes, so the refusals above were about what each changed.
    expect((await subscribe(ann, good.body)).status).toBe(201);
  });

  it("takes http://127.0.0.1:<port> only when PUSH_ALLOW_LOOPBACK=1 (the Workers pool sets it)", async () => {
    const sub = await browserSubscription(STANDIN);
    await expect(checkSubscription({ ...sub.body }, true)).resolves.toMatchObject({ endpoint: STANDIN });
    await expect(checkSubscription({ ...sub.body }, false)).rejects.toThrow(/https on a public host/);
    const ann = await signup("ann");
    expect((await subscribe(ann, sub.body)).status).toBe(201);
  });

  it("signing out, revoking the session, a password change and erasing the account drop that session's subscriptions", async () => {
    const ann = await signup("ann");
    const login = async () => ((await (await api("POST", "/api/login", undefined, { username: ann.username, password: PASSWORD })).json()) as { token: string }).token;
    const [phone, laptop, tablet] = [{ ...ann, token: await login() }, { ...ann, token: await login() }, { ...ann, token: await login() }];
    for (const [i, device] of [ann, phone, laptop, tablet].entries()) {
      expect((await subscribe(device, (await browserSubscription(`https://push.example.com/d/${i}`)).body)).status).toBe(201);
    }
    expect((await api("POST", "/api/logout", phone.token)).status).toBe(204);
    expect((await storedSubscriptions(ann.username)).map((s) => s.endpoint)).toEqual(["https://push.example.com/d/0", "https://push.example.com/d/2", "https://push.example.com/d/3"]);
    const sessions = ((await (await api("GET", "/api/me/sessions", ann.token)).json()) as { sessions: { id: string; current: boolean }[] }).sessions;
    // The newest other session is the tablet's (sessions are listed by last use).
    const others = sessions.filter((s) => !s.current);
    expect((await api("DELETE", `/api/me/sessions/${others[0]!.id}`, ann.token)).status).toBe(204);
    expect((await storedSubscriptions(ann.username)).length).toBe(2);
    expect((await api("POST", "/api/me/password", ann.token, { current: PASSWORD, password: "another good one" })).status).toBe(204);
    expect((await storedSubscriptions(ann.username)).map((s) => s.endpoint)).toEqual(["https://push.example.com/d/0"]);
    expect((await api("DELETE", "/api/me", ann.token, { password: "another good one" })).status).toBe(204);
    expect(await storedSubscriptions(ann.username)).toEqual([]);
  });
});

describe("PATCH /api/conversations/:id/settings {muted}", () => {
  it("mutes for the caller only: Summary.muted in the list, a `muted` frame on every inbox of theirs; unmuting clears it", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ann, ben);
    const inbox = await connect("/inbox", ann);
    await inbox.next("inbox");
    const res = await api("PATCH", `/api/conversations/${d.id}/settings`, ann.token, { muted: true });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { conversation: Summary }).conversation).toMatchObject({ id: d.id, muted: true });
    expect(await inbox.next("muted")).toEqual({ t: "muted", conv: d.id, muted: true });
    const list = async (a: typeof ann) => ((await (await api("GET", "/api/conversations", a.token)).json()) as { conversations: Summary[] }).conversations;
    expect((await list(ann)).find((s) => s.id === d.id)?.muted).toBe(true);
    expect((await list(ben)).find((s) => s.id === d.id)?.muted).toBeUndefined();
    // A second inbox opened now starts with it.
    const second = await connect("/inbox", ann);
    expect((await second.next("inbox")).conversations.find((s) => s.id === d.id)?.muted).toBe(true);
    // The same again changes nothing and tells nobody.
    expect((await api("PATCH", `/api/conversations/${d.id}/settings`, ann.token, { muted: true })).status).toBe(200);
    const off = await api("PATCH", `/api/conversations/${d.id}/settings`, ann.token, { muted: false });
    expect(((await off.json()) as { conversation: Summary }).conversation.muted).toBeUndefined();
    await inbox.next("muted", (f) => !f.muted);
    expect(inbox.of("muted").map((f) => f.muted)).toEqual([true, false]);
    expect((await list(ann)).find((s) => s.id === d.id)?.muted).toBeUndefined();
    await closeAll(inbox, second);
  });

  it("members only (404 otherwise); the body must be exactly {muted: boolean}", async () => {
    const [ann, ben, cat] = [await signup("ann"), await signup("ben"), await signup("cat")];
    const r = await room(ann, [ben]);
    expect((await api("PATCH", `/api/conversations/${r.id}/settings`, cat.token, { muted: true })).status).toBe(404);
    expect((await api("PATCH", `/api/conversations/r${"0".repeat(32)}/settings`, ann.token, { muted: true })).status).toBe(404);
    expect((await api("PATCH", `/api/conversations/nonsense/settings`, ann.token, { muted: true })).status).toBe(404);
    for (const body of [{}, { muted: "yes" }, { muted: 1 }, { muted: true, extra: 1 }]) {
      expect((await api("PATCH", `/api/conversations/${r.id}/settings`, ben.token, body)).status).toBe(400);
    }
    expect((await api("PATCH", `/api/conversations/${r.id}/settings`, undefined, { muted: true })).status).toBe(401);
  });
});

describe("PATCH /api/me {previews}", () => {
  it("defaults to true; turned off it shows in /api/me, log-in and PATCH answers; bad input changes nothing", async () => {
    const ann = await signup("ann");
    const me = async () => ((await (await api("GET", "/api/me", ann.token)).json()) as { user: Me }).user;
    expect((await me()).previews).toBe(true);
    const res = await api("PATCH", "/api/me", ann.token, { previews: false });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user: Me }).user).toEqual({ username: ann.username, name: ann.username, previews: false });
    expect((await me()).previews).toBe(false);
    const login = await api("POST", "/api/login", undefined, { username: ann.username, password: PASSWORD });
    expect(((await login.json()) as { user: Me }).user.previews).toBe(false);
    for (const body of [{}, { previews: "no" }, { previews: null }, { previews: true, name: "" }, { previews: true, other: 1 }]) {
      expect((await api("PATCH", "/api/me", ann.token, body)).status).toBe(400);
    }
    expect(await me()).toEqual({ username: ann.username, name: ann.username, previews: false });
    // A name change keeps the setting; both at once apply both.
    expect(((await (await api("PATCH", "/api/me", ann.token, { name: "Ann" })).json()) as { user: Me }).user).toEqual({ username: ann.username, name: "Ann", previews: false });
    expect(((await (await api("PATCH", "/api/me", ann.token, { name: "Ann B", previews: true })).json()) as { user: Me }).user).toEqual({ username: ann.username, name: "Ann B", previews: true });
  });
});
