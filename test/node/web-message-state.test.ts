/** A message of mine through its states: sending -> sent -> delivered -> read; failed -> retry. */
import { describe, expect, it } from "vitest";
import { ConversationModel } from "../../web/src/models/conversation";
import { tickOf } from "../../web/src/models/ticks";
import { member, msg, welcome } from "./web-fixtures";

function opened(members = [member("alice", true), member("bob")]) {
  const m = new ConversationModel("c1", "alice", 0);
  m.receive(welcome(0, members));
  m.receive({ t: "synced", lastSeq: 0, more: false });
  return m;
}

const localTick = (m: ConversationModel, id: string) => m.tick(m.local.value.find((x) => x.id === id) ?? {});
const loggedTick = (m: ConversationModel, seq: number) => m.tick({ seq });

describe("message state", () => {
  it("goes sending -> sent -> delivered -> read", () => {
    const m = opened();
    m.addLocal({ id: "x1", body: "hi", created: 1 });
    expect(localTick(m, "x1")).toBe("sending");

    expect(m.receive({ t: "ack", id: "x1", seq: 1, ts: 5 })).toEqual([{ t: "acked", id: "x1" }]);
    expect(localTick(m, "x1")).toBe("sent"); // bob is offline: stored, not yet on his device

    m.receive(msg(1, "alice", "x1", "hi"));
    expect(m.local.value).toEqual([]); // now part of the log
    expect(loggedTick(m, 1)).toBe("sent");

    m.receive({ t: "presence", username: "bob", online: true });
    expect(loggedTick(m, 1)).toBe("delivered");
    // Delivered stays delivered when he goes away again.
    m.receive({ t: "presence", username: "bob", online: false });
    expect(loggedTick(m, 1)).toBe("delivered");

    m.receive({ t: "receipt", username: "bob", seq: 1 });
    expect(loggedTick(m, 1)).toBe("read");
  });

  it("is delivered at once when acked while another member is online", () => {
    const m = opened([member("alice", true), member("bob", true)]);
    m.addLocal({ id: "x1", body: "hi", created: 1 });
    m.receive({ t: "ack", id: "x1", seq: 1, ts: 5 });
    expect(localTick(m, "x1")).toBe("delivered");
  });

  it("counts my own read mark for nothing", () => {
    expect(tickOf({ seq: 3 }, "alice", [member("alice", true, 10), member("bob", false, 2)], 0)).toBe("sent");
    expect(tickOf({ seq: 3 }, "alice", [member("alice", true, 10), member("bob", false, 3)], 0)).toBe("read");
  });

  it("fails on an error naming its id, and retries with the same id", () => {
    const m = opened();
    m.addLocal({ id: "x1", body: "hi", created: 1 });
    expect(m.receive({ t: "error", code: "too_large", message: "too long", id: "x1" })).toEqual([
      { t: "failed", id: "x1", code: "too_large" },
    ]);
    expect(localTick(m, "x1")).toBe("failed");
    expect(m.unacked()).toEqual([]); // not resent on its own

    const again = m.retry("x1");
    expect(again?.id).toBe("x1");
    expect(localTick(m, "x1")).toBe("sending");
    expect(m.unacked().map((x) => x.id)).toEqual(["x1"]);
    m.receive({ t: "ack", id: "x1", seq: 1, ts: 5 });
    expect(localTick(m, "x1")).toBe("sent");
  });

  it("keeps a rate-limited message sending, to be sent again later with the same id", () => {
    const m = opened();
    m.addLocal({ id: "x2", body: "hi", created: 1 });
    expect(m.receive({ t: "error", code: "rate_limited", message: "slow down", id: "x2" })).toEqual([{ t: "later", id: "x2", code: "rate_limited" }]);
    expect(localTick(m, "x2")).toBe("sending");
    expect(m.unacked().map((x) => x.id)).toEqual(["x2"]);
  });

  it("keeps a message the server failed to store sending, to be resent with the same id", () => {
    const m = opened();
    m.addLocal({ id: "x3", body: "hi", created: 1 });
    expect(m.receive({ t: "error", code: "internal", message: "internal error", id: "x3" })).toEqual([{ t: "later", id: "x3", code: "internal" }]);
    expect(localTick(m, "x3")).toBe("sending");
    expect(m.unacked().map((x) => x.id)).toEqual(["x3"]);
  });

  it("ignores an error for an id that was already acked", () => {
    const m = opened();
    m.addLocal({ id: "x1", body: "hi", created: 1 });
    m.receive({ t: "ack", id: "x1", seq: 1, ts: 5 });
    expect(m.receive({ t: "error", code: "invalid", message: "late", id: "x1" })).toEqual([]);
    expect(localTick(m, "x1")).toBe("sent");
  });

  it("drops a local message that history or a replay shows was stored (its ack was lost)", () => {
    const m = opened();
    m.addLocal({ id: "x1", body: "hi", created: 1 });
    m.receive({ t: "history", messages: [{ seq: 1, id: "x1", from: "alice", body: "hi", ts: 5 }], more: false });
    expect(m.local.value).toEqual([]);
  });
});
