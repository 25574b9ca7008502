/** What the app keeps for starting offline (IndexedDB through fake-indexeddb), and a model resumed from it. */
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { beforeAll, describe, expect, it } from "vitest";
import type { KeptConv } from "../../web/src/lib/kept";
import { ConversationModel } from "../../web/src/models/conversation";
import { msg, welcome } from "./web-fixtures";

// lib/kept.ts opens its database from the page's globals on first use.
beforeAll(() => {
  Object.assign(globalThis, { indexedDB: new IDBFactory(), IDBKeyRange });
});

const kept = () => import("../../web/src/lib/kept");
const conv = (id: string, at: number): KeptConv => ({ id, applied: 2, items: [], members: [], at });

describe("kept for offline", () => {
  it("keeps per user; signing out forgets that user and who was signed in, not the others", async () => {
    const { keep, kept: read, keptConversations, forget } = await kept();
    await keep("me", { username: "alice", name: "Alice" });
    await keep(["alice", "l"], [{ id: "c1" }]);
    await keep(["alice", "c", "c1"], conv("c1", 1));
    await keep(["bob", "c", "c9"], conv("c9", 1));
    expect(await read("me")).toEqual({ username: "alice", name: "Alice" });
    expect((await keptConversations("alice")).map((c) => c.id)).toEqual(["c1"]);
    await forget("alice");
    expect(await read("me")).toBeUndefined();
    expect(await read(["alice", "l"])).toBeUndefined();
    expect(await keptConversations("alice")).toEqual([]);
    expect((await keptConversations("bob")).map((c) => c.id)).toEqual(["c9"]);
  });

  it("keeps the most recent MAX_KEPT conversations and drops the rest", async () => {
    const { keep, keptConversations, MAX_KEPT } = await kept();
    for (let i = 0; i < MAX_KEPT + 3; i++) await keep(["carol", "c", `k${i}`], conv(`k${i}`, i));
    const first = await keptConversations("carol");
    expect(first.length).toBe(MAX_KEPT);
    expect(first[0]?.id).toBe(`k${MAX_KEPT + 2}`);
    await expect.poll(async () => (await keptConversations("carol")).map((c) => c.id).includes("k0")).toBe(false);
  });
});

describe("a conversation resumed from what was kept", () => {
  it("shows the kept messages at once and applies only the events after them", () => {
    const before = new ConversationModel("c1", "alice", 0);
    before.receive(welcome(3));
    for (const s of [1, 2, 3]) before.receive(msg(s));
    before.receive({ t: "synced", lastSeq: 3, more: false });
    const k = { applied: before.applied ?? 0, items: before.timeline.value, members: before.members.value };

    const m = new ConversationModel("c1", "alice", k.applied);
    m.restore(k);
    expect(m.timeline.value.map((i) => i.seq)).toEqual([1, 2, 3]);
    expect(m.ready.value).toBe(false); // nothing is marked read from what was kept
    // Online again: the socket resumes from 3; message 2 was edited meanwhile, 4 is new.
    m.receive(welcome(5));
    m.receive({ t: "edit", seq: 4, target: 2, body: "changed", ts: 4 });
    m.receive(msg(5));
    m.receive({ t: "synced", lastSeq: 5, more: false });
    expect(m.timeline.value.map((i) => i.seq)).toEqual([1, 2, 3, 5]);
    expect(m.message(2)?.body).toBe("changed");
    expect(m.ready.value).toBe(true);
  });
});
