/**
 * Issue 13, PROTOCOL.md 7.1: the account. A new name reaches every conversation (also when the
 * first call fails); a password change signs out every other session; sessions are listed and
 * revoked; an erased account leaves no session, no hash and no way back in, leaves its rooms
 * (ownership passes on) and stays readable, as a deleted account, in its DMs.
 */
import { runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Member, Message, Summary } from "../../protocol";
import { ConversationObject } from "../../worker/conversation";
import { api, closeAll, connect, dm, join, room, signup, type Account, userStub } from "./helpers";

const PASSWORD = "correct horse battery";

async function listOf(a: Account): Promise<Summary[]> {
  return ((await (await api("GET", "/api/conversations", a.token)).json()) as { conversations: Summary[] }).conversations;
}

async function membersOf(conv: string, a: Account): Promise<Member[]> {
  return ((await (await api("GET", `/api/conversations/${conv}/members`, a.token)).json()) as { members: Member[] }).members;
}

function login(username: string, password: string): Promise<Response> {
  return api("POST", "/api/login", undefined, { username, password });
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe("PATCH /api/me: the display name", () => {
  it("answers the user; the room's members, open sockets and the DM peer's list show the new name", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ann, ben);
    const r = await room(ben, [ann]);
    const b = await join(r.id, ben);
    const inbox = await connect("/inbox", ben);
    await inbox.next("inbox");
    const res = await api("PATCH", "/api/me", ann.token, { name: "Ann Example" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user: { username: ann.username, name: "Ann Example", previews: true } });
    expect(((await (await api("GET", "/api/me", ann.token)).json()) as { user: { name: string } }).user.name).toBe("Ann Example");
    expect(await b.next("profile")).toEqual({ t: "profile", username: ann.username, name: "Ann Example" });
    expect((await membersOf(r.id, ben)).find((m) => m.username === ann.username)?.name).toBe("Ann Example");
    expect((await listOf(ben)).find((s) => s.id === d.id)?.title).toBe("Ann Example");
    expect((await inbox.next("joined", (j) => j.conversation.id === d.id)).conversation.title).toBe("Ann Example");
    expect((await api("PATCH", "/api/me", ann.token, { name: "" })).status).toBe(400);
    expect((await api("PATCH", "/api/me", ann.token, { name: "x".repeat(65) })).status).toBe(400);
    await closeAll(b, inbox);
  });

  it("reaches a conversation whose first call failed: the user object's note is retried by its alarm", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const r = await room(ben, [ann]);
    const original = ConversationObject.prototype.memberChanged;
    let failures = 0;
    ConversationObject.prototype.memberChanged = function (this: ConversationObject, ...args: Parameters<typeof original>) {
      if (failures++ === 0) throw new Error("fault");
      return original.apply(this, args);
    };
    onTestFinished(() => {
      ConversationObject.prototype.memberChanged = original;
    });
    expect((await api("PATCH", "/api/me", ann.token, { name: "Annie" })).status).toBe(200);
    expect(failures).toBe(1);
    // The call failed: the room still shows the old name, and the note waits in ann's object.
    expect((await membersOf(r.id, ben)).find((m) => m.username === ann.username)?.name).toBe(ann.username);
    expect(await runInDurableObject(userStub(ann.username), (_i, s) => s.storage.sql.exec("SELECT count(*) AS n FROM conv_notes").one().n)).toBe(1);
    expect(await runDurableObjectAlarm(userStub(ann.username))).toBe(true);
    await expect.poll(async () => (await membersOf(r.id, ben)).find((m) => m.username === ann.username)?.name).toBe("Annie");
    await expect.poll(() => runInDurableObject(userStub(ann.username), (_i, s) => s.storage.sql.exec("SELECT count(*) AS n FROM conv_notes").one().n)).toBe(0);
  });
});

describe("password and sessions", () => {
  it("a password change needs the current one (401 otherwise), keeps this session and revokes every other (sockets 4401)", async () => {
    const ann = await signup("ann");
    const other = ((await (await login(ann.username, PASSWORD)).json()) as { token: string }).token;
    const elsewhere: Account = { username: ann.username, token: other };
    const inbox = await connect("/inbox", elsewhere);
    await inbox.next("inbox");
    const wrong = await api("POST", "/api/me/password", ann.token, { current: "not the password", password: "a new password" });
    expect(wrong.status).toBe(401);
    expect(await errorCode(wrong)).toBe("unauthorized");
    expect((await api("POST", "/api/me/password", ann.token, { current: PASSWORD, password: "short" })).status).toBe(400);
    expect((await api("POST", "/api/me/password", ann.token, { current: PASSWORD, password: "a new password" })).status).toBe(204);
    expect(await inbox.closed()).toBe(4401);
    expect((await api("GET", "/api/me", other)).status).toBe(401);
    expect((await api("GET", "/api/me", ann.token)).status).toBe(200);
    expect((await login(ann.username, PASSWORD)).status).toBe(401);
    expect((await login(ann.username, "a new password")).status).toBe(200);
  });

  it("a wrong current password counts toward the username's log-in lockout (429 for both once locked)", async () => {
    const ann = await signup("ann");
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await api("POST", "/api/me/password", ann.token, { current: `wrong ${i}`, password: "a new password" })).status);
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
    // Locked: the right password is refused too, here and at log-in; deletion likewise.
    expect((await api("POST", "/api/me/password", ann.token, { current: PASSWORD, password: "a new password" })).status).toBe(429);
    expect((await login(ann.username, PASSWORD)).status).toBe(429);
    expect((await api("DELETE", "/api/me", ann.token, { password: PASSWORD })).status).toBe(429);
    expect((await api("GET", "/api/me", ann.token)).status).toBe(200);
  });

  it("lists sessions (device, created, last used, current); revokes one (404 for an unknown id) or all others", async () => {
    const ann = await signup("ann");
    const tokens: string[] = [];
    for (let i = 0; i < 2; i++) {
      tokens.push(await loginFrom(ann.username, `Device ${i}`));
    }
    const res = await api("GET", "/api/me/sessions", ann.token);
    expect(res.status).toBe(200);
    const { sessions } = (await res.json()) as { sessions: { id: string; created: number; lastUsed: number; agent?: string; current: boolean }[] };
    expect(sessions).toHaveLength(3);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    expect(sessions.map((s) => s.agent).filter(Boolean).sort()).toEqual(["Device 0", "Device 1"]);
    for (const s of sessions) {
      expect(s.id).toMatch(/^[0-9a-f]+$/);
      expect(s.lastUsed).toBeGreaterThanOrEqual(s.created);
      // The public id is not the secret one inside a token.
      for (const t of [ann.token, ...tokens]) expect(t).not.toContain(s.id);
    }
    const device0 = sessions.find((s) => s.agent === "Device 0")!;
    const inbox = await connect("/inbox", { username: ann.username, token: tokens[0]! });
    await inbox.next("inbox");
    expect((await api("DELETE", `/api/me/sessions/${device0.id}`, ann.token)).status).toBe(204);
    expect(await inbox.closed()).toBe(4401);
    expect((await api("GET", "/api/me", tokens[0])).status).toBe(401);
    expect((await api("GET", "/api/me", tokens[1])).status).toBe(200);
    expect((await api("DELETE", `/api/me/sessions/${device0.id}`, ann.token)).status).toBe(404);
    expect((await api("DELETE", "/api/me/sessions/abc123", ann.token)).status).toBe(404);
    expect((await api("DELETE", "/api/me/sessions", ann.token)).status).toBe(204);
    expect((await api("GET", "/api/me", tokens[1])).status).toBe(401);
    expect((await api("GET", "/api/me", ann.token)).status).toBe(200);
    const left = ((await (await api("GET", "/api/me/sessions", ann.token)).json()) as { sessions: { current: boolean }[] }).sessions;
    expect(left).toEqual([expect.objectContaining({ current: true })]);
  });
});

/** Logs in with a User-Agent; returns the token. */
async function loginFrom(username: string, agent: string): Promise<string> {
  const res = await SELF.fetch("https://chat.test/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", "User-Agent": agent },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

describe("DELETE /api/me: erasing the account", () => {
  it("leaves no session, no hash and no way back in; leaves its rooms (ownership passes on); its DMs stay readable as a deleted account", async () => {
    const [ann, ben, cat] = [await signup("ann"), await signup("ben"), await signup("cat")];
    const d = await dm(ann, ben);
    const r = await room(ann, [ben, cat]);
    expect((await api("PUT", `/api/conversations/${r.id}/members/${cat.username}/role`, ann.token, { role: "admin" })).status).toBe(200);
    const a = await join(d.id, ann);
    a.send({ t: "send", id: "hello", body: "hello ben" });
    await a.next("ack");
    const inbox = await connect("/inbox", ann);
    await inbox.next("inbox");
    const watcher = await join(r.id, ben);
    const wrong = await api("DELETE", "/api/me", ann.token, { password: "not the password" });
    expect(wrong.status).toBe(401);
    expect((await api("GET", "/api/me", ann.token)).status).toBe(200);

    expect((await api("DELETE", "/api/me", ann.token, { password: PASSWORD })).status).toBe(204);
    expect(await a.closed()).toBe(4401);
    expect(await inbox.closed()).toBe(4401);
    expect((await api("GET", "/api/me", ann.token)).status).toBe(401);
    expect((await login(ann.username, PASSWORD)).status).toBe(401);
    const again = await api("POST", "/api/signup", undefined, { username: ann.username, password: PASSWORD });
    expect(again.status).toBe(409);
    // No session and no hash left in the object; only the username's tombstone.
    const stored = await runInDurableObject(userStub(ann.username), (_i, s) => ({
      sessions: s.storage.sql.exec("SELECT count(*) AS n FROM sessions").one().n,
      account: s.storage.sql.exec("SELECT username, name, salt, hash FROM account").toArray(),
    }));
    expect(stored).toEqual({ sessions: 0, account: [{ username: ann.username, name: "", salt: "", hash: "" }] });
    // The room: ann left (a member event), and cat, the admin, owns it now.
    expect(await watcher.next("member", (m) => m.username === ann.username && !m.joined)).toBeTruthy();
    expect(await watcher.next("role", (x) => x.role === "owner")).toMatchObject({ username: cat.username, by: ann.username });
    expect((await membersOf(r.id, ben)).map((m) => m.username)).not.toContain(ann.username);
    // The DM: ben still reads it; ann is shown as a deleted account.
    const page = (await (await api("GET", `/api/conversations/${d.id}/messages`, ben.token)).json()) as { messages: Message[] };
    expect(page.messages.map((m) => [m.from, m.body])).toEqual([[ann.username, "hello ben"]]);
    const b = await join(d.id, ben);
    expect(b.of("welcome")[0]!.members.find((m) => m.username === ann.username)).toMatchObject({ deleted: true, name: "Deleted account" });
    await expect.poll(async () => (await listOf(ben)).find((s) => s.id === d.id)?.title).toBe("Deleted account");
    // Nobody can start a DM with, invite or block the erased account: it does not exist.
    expect((await api("POST", "/api/conversations", cat.token, { kind: "dm", with: ann.username })).status).toBe(404);
    expect((await api("PUT", `/api/me/blocks/${ann.username}`, cat.token)).status).toBe(404);
    await closeAll(b, watcher);
  });
});
