/**
 * Issue 13, PROTOCOL.md 7.2: blocking. While A blocks B: B cannot start a DM with A (403 blocked),
 * B's send into their existing DM is refused with error forbidden and stores nothing, and B cannot
 * add A to a room (403 blocked). The rules are checked by A's object (and, for sends, by the DM,
 * which A's object keeps told, retrying until it heard).
 */
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, onTestFinished } from "vitest";
import { ConversationObject } from "../../worker/conversation";
import { api, closeAll, dm, join, room, signup, storedState } from "./helpers";

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe("blocking", () => {
  it("PUT, GET and DELETE /api/me/blocks: 204 (twice too), the list, 404 for an unknown user", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    expect((await api("PUT", `/api/me/blocks/${ben.username}`, ann.token)).status).toBe(204);
    expect((await api("PUT", `/api/me/blocks/${ben.username}`, ann.token)).status).toBe(204);
    expect(await (await api("GET", "/api/me/blocks", ann.token)).json()).toEqual({ blocked: [ben.username] });
    expect((await api("PUT", "/api/me/blocks/nobody-at-all-here", ann.token)).status).toBe(404);
    expect((await api("DELETE", `/api/me/blocks/${ben.username}`, ann.token)).status).toBe(204);
    expect(await (await api("GET", "/api/me/blocks", ann.token)).json()).toEqual({ blocked: [] });
    expect((await api("GET", "/api/me/blocks", undefined)).status).toBe(401);
  });

  it("the blocked person cannot start a DM (403 blocked) or add the blocker to a room (403 blocked); the blocker can", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    expect((await api("PUT", `/api/me/blocks/${ben.username}`, ann.token)).status).toBe(204);
    const start = await api("POST", "/api/conversations", ben.token, { kind: "dm", with: ann.username });
    expect(start.status).toBe(403);
    expect(await errorCode(start)).toBe("blocked");
    const r = await room(ben);
    const invite = await api("POST", `/api/conversations/${r.id}/members`, ben.token, { username: ann.username });
    expect(invite.status).toBe(403);
    expect(await errorCode(invite)).toBe("blocked");
    // Ann may still add ben to a room of hers (rooms they share stay as they are).
    const mine = await room(ann);
    expect((await api("POST", `/api/conversations/${mine.id}/members`, ann.token, { username: ben.username })).status).toBe(200);
    // After the unblock, ben may start the DM.
    expect((await api("DELETE", `/api/me/blocks/${ben.username}`, ann.token)).status).toBe(204);
    expect((await api("POST", "/api/conversations", ben.token, { kind: "dm", with: ann.username })).status).toBe(201);
  });

  it("a send into the existing DM is refused with error forbidden and stores nothing; the blocker still sends; unblocking lets it through", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const d = await dm(ben, ann);
    const b = await join(d.id, ben);
    const a = await join(d.id, ann);
    expect((await api("PUT", `/api/me/blocks/${ben.username}`, ann.token)).status).toBe(204);
    const before = await storedState(d.id);
    b.send({ t: "send", id: "blocked-1", body: "hello?" });
    expect(await b.next("error", (e) => e.id === "blocked-1")).toMatchObject({ code: "forbidden" });
    expect(await storedState(d.id)).toBe(before);
    expect(b.of("ack")).toEqual([]);
    a.send({ t: "send", id: "from-ann", body: "I can still write" });
    await b.next("msg", (m) => m.id === "from-ann");
    expect((await api("DELETE", `/api/me/blocks/${ben.username}`, ann.token)).status).toBe(204);
    b.send({ t: "send", id: "blocked-1", body: "hello?" });
    expect((await b.next("ack", (x) => x.id === "blocked-1")).dup).toBeUndefined();
    await closeAll(a, b);
  });

  it("a block made before the DM (by the blocker starting it) and a block whose first call failed both reach the DM", async () => {
    const [ann, ben, cat] = [await signup("ann"), await signup("ben"), await signup("cat")];
    expect((await api("PUT", `/api/me/blocks/${ben.username}`, ann.token)).status).toBe(204);
    const d = await dm(ann, ben);
    const b = await join(d.id, ben);
    b.send({ t: "send", id: "x", body: "hi" });
    expect(await b.next("error", (e) => e.id === "x")).toMatchObject({ code: "forbidden" });

    // The DM misses the first call: ann's object keeps the note and its alarm tells it again.
    const d2 = await dm(cat, ann);
    const original = ConversationObject.prototype.blockChanged;
    let failures = 0;
    ConversationObject.prototype.blockChanged = function (this: ConversationObject, ...args: Parameters<typeof original>) {
      if (failures++ === 0) throw new Error("fault");
      return original.apply(this, args);
    };
    onTestFinished(() => {
      ConversationObject.prototype.blockChanged = original;
    });
    expect((await api("PUT", `/api/me/blocks/${cat.username}`, ann.token)).status).toBe(204);
    expect(failures).toBe(1);
    const c = await join(d2.id, cat);
    c.send({ t: "send", id: "through", body: "not yet blocked here" });
    await c.next("ack", (x) => x.id === "through");
    expect(await runDurableObjectAlarm(env.USERS.get(env.USERS.idFromName(ann.username)))).toBe(true);
    await expect
      .poll(async () => {
        const id = `try-${Math.random()}`;
        c.send({ t: "send", id, body: "again" });
        await c.until((f) => f.some((x) => (x.t === "ack" || x.t === "error") && "id" in x && x.id === id));
        return c.frames.some((x) => x.t === "error" && x.id === id && x.code === "forbidden");
      })
      .toBe(true);
    await closeAll(b, c);
  });
});
