/**
 * Security: who may do what inside a conversation. Only the author edits or deletes a message;
 * the sender is always the session's user, whatever the frame says; a non-member reads nothing
 * (history, search, socket) and cannot join a private room.
 */
import { describe, expect, it } from "vitest";
import { CLOSE } from "../../protocol";
import { api, closeAll, connect, convSql, join, room, signup, storedState } from "./helpers";

describe("authorship", () => {
  it("a member cannot edit or delete another member's message, and nothing changes", async () => {
    const alice = await signup("au");
    const bob = await signup("au");
    // Both plain members: the room's owner (and its admins) may delete anyone's message (v1.1).
    const conv = await room(await signup("au"), [alice, bob]);
    const a = await join(conv.id, alice);
    const b = await join(conv.id, bob);
    b.send({ t: "send", id: "bobs", body: "bob's own words" });
    const ack = await b.next("ack", (f) => f.id === "bobs");
    await a.next("msg", (m) => m.seq === ack.seq);
    const before = await storedState(conv.id);

    a.send({ t: "edit", target: ack.seq, body: "words put in bob's mouth" });
    expect(await a.next("error", (e) => e.code === "forbidden")).toMatchObject({ code: "forbidden" });
    a.send({ t: "delete", target: ack.seq });
    await a.until(() => a.of("error").filter((e) => e.code === "forbidden").length === 2);

    expect(await storedState(conv.id)).toBe(before);
    expect(b.of("edit")).toEqual([]);
    expect(b.of("delete")).toEqual([]);
    // The author still can.
    b.send({ t: "edit", target: ack.seq, body: "bob changed his mind" });
    expect(await a.next("edit")).toMatchObject({ target: ack.seq, body: "bob changed his mind" });
    await closeAll(a, b);
  });

  it("the sender, seq and time come from the session and the object, never from the frame", async () => {
    const alice = await signup("au");
    const bob = await signup("au");
    const conv = await room(alice, [bob]);
    const a = await join(conv.id, alice);
    const b = await join(conv.id, bob);
    a.send({ t: "send", id: "spoof", body: "I am bob", from: bob.username, seq: 999, ts: 1, sender: bob.username });
    const ack = await a.next("ack", (f) => f.id === "spoof");
    const msg = await b.next("msg", (m) => m.id === "spoof");
    expect(msg.from).toBe(alice.username);
    expect(msg.seq).toBe(ack.seq);
    expect(msg.seq).not.toBe(999);
    expect(msg.ts).toBeGreaterThan(1);
    const rows = await convSql(conv.id, "SELECT sender FROM messages WHERE client_id = ?", "spoof");
    expect(rows).toEqual([{ sender: alice.username }]);
    const hist = (await (await api("GET", `/api/conversations/${conv.id}/messages`, bob.token)).json()) as { messages: { id: string; from: string }[] };
    expect(hist.messages.find((m) => m.id === "spoof")?.from).toBe(alice.username);
    await closeAll(a, b);
  });
});

describe("membership", () => {
  it("a non-member cannot read history or search (404: not even that it exists) or open a socket (4403)", async () => {
    const alice = await signup("mb");
    const bob = await signup("mb");
    const carol = await signup("mb");
    const conv = await room(alice, [bob], true);
    const a = await join(conv.id, alice);
    a.send({ t: "send", id: "secret", body: "the private plans" });
    await a.next("ack");

    const history = await api("GET", `/api/conversations/${conv.id}/messages`, carol.token);
    expect(history.status).toBe(404);
    expect(await history.text()).not.toContain("private plans");
    const search = await api("GET", `/api/conversations/${conv.id}/search?q=plans`, carol.token);
    expect(search.status).toBe(404);
    expect(await search.text()).not.toContain("private plans");
    const socket = await connect(`/chat/${conv.id}`, carol);
    expect(await socket.closed()).toBe(CLOSE.FORBIDDEN);
    expect(socket.frames.filter((f) => f.t !== "error")).toEqual([]);
    const joined = await api("POST", `/api/conversations/${conv.id}/join`, carol.token);
    expect(joined.status).toBe(403);
    // A member can (the check is about membership, not about the route).
    expect((await api("GET", `/api/conversations/${conv.id}/search?q=plans`, bob.token)).status).toBe(200);
    await closeAll(a);
  });

  it("a DM is closed to a third person", async () => {
    const alice = await signup("mb");
    const bob = await signup("mb");
    const carol = await signup("mb");
    const res = await api("POST", "/api/conversations", alice.token, { kind: "dm", with: bob.username });
    const { conversation } = (await res.json()) as { conversation: { id: string } };
    expect((await api("GET", `/api/conversations/${conversation.id}/messages`, carol.token)).status).toBe(404);
    expect((await api("POST", `/api/conversations/${conversation.id}/join`, carol.token)).status).toBe(403);
    expect((await api("POST", `/api/conversations/${conversation.id}/members`, carol.token, { username: carol.username })).status).toBe(404);
  });

  it("someone who leaves loses their sockets and their access at once", async () => {
    const alice = await signup("mb");
    const bob = await signup("mb");
    const conv = await room(alice, [bob]);
    const b = await join(conv.id, bob);
    expect((await api("POST", `/api/conversations/${conv.id}/leave`, bob.token)).status).toBe(204);
    expect(await b.closed()).toBe(CLOSE.FORBIDDEN);
    expect((await api("GET", `/api/conversations/${conv.id}/messages`, bob.token)).status).toBe(404);
  });
});
