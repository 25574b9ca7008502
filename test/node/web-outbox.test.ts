/** The outbox in IndexedDB (fake-indexeddb), and a session that delivers it exactly once. */
import { IDBFactory } from "fake-indexeddb";
import { describe, expect, it, vi } from "vitest";
import { Outbox } from "../../web/src/lib/outbox";
import { ConversationSession } from "../../web/src/models/session";
import { type FakeSocket, fakeSession, msg, welcome } from "./web-fixtures";

describe("outbox", () => {
  it("keeps entries per user, oldest first, across a new instance (a reload)", async () => {
    const idb = new IDBFactory();
    const box = new Outbox(idb);
    await box.put({ id: "b", user: "alice", conv: "c1", body: "second", created: 2 });
    await box.put({ id: "a", user: "alice", conv: "c1", body: "first", created: 1, replyTo: 7 });
    await box.put({ id: "z", user: "bob", conv: "c1", body: "not alice's", created: 0 });
    const reloaded = new Outbox(idb);
    expect((await reloaded.list("alice")).map((e) => [e.id, e.body, e.replyTo])).toEqual([["a", "first", 7], ["b", "second", undefined]]);
    await reloaded.remove("a");
    expect((await new Outbox(idb).list("alice")).map((e) => e.id)).toEqual(["b"]);
    expect((await new Outbox(idb).list("bob")).map((e) => e.id)).toEqual(["z"]);
  });
});

/** A session of alice's in c1 whose socket is open and synced at seq 0. */
function syncedSession() {
  const idb = new IDBFactory();
  const sockets: FakeSocket[] = [];
  const s = fakeSession(idb, sockets);
  s.start();
  sockets[0]!.open();
  sockets[0]!.deliver(welcome(0), { t: "synced", lastSeq: 0, more: false });
  return { idb, sockets, s };
}

const sends = (s: FakeSocket) => s.frames().filter((f): f is { t: "send"; id: string; body: string } => typeof f === "object" && f !== null && "t" in f && f.t === "send");

describe("delivering the outbox", () => {
  it("shows a typed message only once its outbox write has committed", async () => {
    const idb = new IDBFactory();
    const box = new Outbox(idb);
    let commit: () => void = () => {};
    const committed = new Promise<void>((resolve) => { commit = resolve; });
    const slow = Object.assign(Object.create(box) as Outbox, {
      put: async (e: Parameters<Outbox["put"]>[0]) => { await committed; await box.put(e); },
    });
    const s = new ConversationSession("c1", 0, {
      outbox: slow, user: "alice", socketUrl: (p) => `ws://test${p}`,
      onIncoming: () => {}, onApplied: () => {}, onFinal: () => {},
    });
    const posting = s.post("id-1", "hello", undefined);
    await new Promise((r) => setTimeout(r, 10));
    expect(s.model.local.value).toEqual([]); // not on screen while the write is pending
    commit();
    await posting;
    expect(s.model.local.value.map((m) => m.id)).toEqual(["id-1"]);
    expect((await box.list("alice")).map((e) => e.id)).toEqual(["id-1"]);
  });

  it("stores before sending, resends with the same id after a reconnect, forgets on ack", async () => {
    const idb = new IDBFactory();
    const sockets: FakeSocket[] = [];
    const s = fakeSession(idb, sockets);
    s.start();
    const first = sockets[0]!;
    expect(first.url).toBe("ws://test/chat/c1?since=0");
    expect(first.protocols).toEqual(["chat.v1.msgpack.short", "chat.v1.msgpack"]);
    first.open();
    first.deliver(welcome(0), { t: "synced", lastSeq: 0, more: false });

    await s.post("id-1", "hello", undefined);
    expect((await new Outbox(idb).list("alice")).map((e) => e.id)).toEqual(["id-1"]);
    expect(sends(first)).toEqual([{ t: "send", id: "id-1", body: "hello" }]);

    // The connection drops before the ack; the message is resent with the same id on the next welcome.
    first.drop(1006);
    s.stop();
    const again = fakeSession(idb, sockets, 0);
    for (const e of await new Outbox(idb).list("alice")) again.model.addLocal(e);
    again.start();
    const second = sockets[1]!;
    second.open();
    second.deliver(welcome(0));
    expect(sends(second)).toEqual([{ t: "send", id: "id-1", body: "hello" }]);
    second.deliver({ t: "synced", lastSeq: 0, more: false }, { t: "ack", id: "id-1", seq: 1, ts: 9 }, msg(1, "alice", "id-1", "hello"));
    // The ack removes it from IndexedDB (asynchronously).
    await vi.waitFor(async () => expect(await new Outbox(idb).list("alice")).toEqual([]));
    expect(again.model.local.value).toEqual([]);
    expect(again.model.timeline.value.map((i) => i.seq)).toEqual([1]);

    // After the ack nothing is sent again, however often it reconnects.
    second.drop(1006);
    again.socket.resume();
    const third = sockets[2]!;
    expect(third.url).toBe("ws://test/chat/c1?since=1");
    third.open();
    third.deliver(welcome(1), { t: "synced", lastSeq: 1, more: false });
    expect(sends(third)).toEqual([]);
    again.stop();
  });

  it("keeps a refused message in the outbox as failed, not to be sent again on its own", async () => {
    const { idb, sockets, s } = syncedSession();
    await s.post("id-2", "too big", undefined);
    sockets[0]!.deliver({ t: "error", code: "too_large", message: "too long", id: "id-2" });
    await vi.waitFor(async () => expect((await new Outbox(idb).list("alice")).map((e) => e.failed)).toEqual(["too_large"]));
    sockets[0]!.deliver(welcome(0));
    expect(sends(sockets[0]!)).toHaveLength(1);
    await s.retry("id-2");
    expect(sends(sockets[0]!)).toEqual([{ t: "send", id: "id-2", body: "too big" }, { t: "send", id: "id-2", body: "too big" }]);
    expect((await new Outbox(idb).list("alice")).map((e) => e.failed)).toEqual([undefined]);
    s.stop();
  });

  it("sends a rate-limited message again by itself, with the same id, after a pause that grows", async () => {
    const { idb, sockets, s } = syncedSession();
    await s.post("id-3", "too fast", undefined);
    // Only the session's timers are faked: IndexedDB keeps its own (setImmediate) ones.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      sockets[0]!.deliver({ t: "error", code: "rate_limited", message: "slow down", id: "id-3" });
      expect(s.model.tick(s.model.local.value[0]!)).toBe("sending"); // not "Not sent"
      expect(sends(sockets[0]!)).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1000); // the first pause: 0.5-1 s
      expect(sends(sockets[0]!)).toEqual([{ t: "send", id: "id-3", body: "too fast" }, { t: "send", id: "id-3", body: "too fast" }]);
      sockets[0]!.deliver({ t: "error", code: "rate_limited", message: "slow down", id: "id-3" });
      await vi.advanceTimersByTimeAsync(999); // the second is longer than the first
      expect(sends(sockets[0]!)).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1001);
      expect(sends(sockets[0]!)).toHaveLength(3);
      sockets[0]!.deliver({ t: "ack", id: "id-3", seq: 1, ts: 1 });
      await vi.advanceTimersByTimeAsync(60_000);
      expect(sends(sockets[0]!)).toHaveLength(3); // acked: nothing more
      expect((await new Outbox(idb).list("alice")).map((e) => e.failed)).toEqual([]);
      s.stop();
    } finally {
      vi.useRealTimers();
    }
  });
  it("resends by itself a message the server failed to store, three times, then shows it as not sent", async () => {
    const { idb, sockets, s } = syncedSession();
    await s.post("id-4", "unlucky", undefined);
    const internal = { t: "error", code: "internal", message: "internal error", id: "id-4" } as const;
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      // Three resends, same id, after the pauses that grow (0.5-1 s, 1-2 s, 2-4 s), still "sending".
      for (const [n, pause] of [[2, 1000], [3, 2000], [4, 4000]] as const) {
        sockets[0]!.deliver(internal);
        expect(s.model.tick(s.model.local.value[0]!)).toBe("sending");
        await vi.advanceTimersByTimeAsync(pause);
        expect(sends(sockets[0]!)).toEqual(Array.from({ length: n }, () => ({ t: "send", id: "id-4", body: "unlucky" })));
      }
      // The fourth failure: not sent, kept in the outbox as such, and nothing more goes by itself.
      sockets[0]!.deliver(internal);
      expect(s.model.tick(s.model.local.value[0]!)).toBe("failed");
      await vi.advanceTimersByTimeAsync(60_000);
      expect(sends(sockets[0]!)).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
    await vi.waitFor(async () => expect((await new Outbox(idb).list("alice")).map((e) => e.failed)).toEqual(["internal"]));
    // The person's retry starts the count again, and an ack ends it.
    await s.retry("id-4");
    expect(sends(sockets[0]!)).toHaveLength(5);
    sockets[0]!.deliver({ t: "ack", id: "id-4", seq: 1, ts: 1 });
    expect(s.model.tick(s.model.local.value[0]!)).not.toBe("failed");
    s.stop();
  });
});
