/** Each seq applied once, in order: resume from the last one, drop duplicates, fill gaps with `sync`. */
import { describe, expect, it } from "vitest";
import { ConversationModel } from "../../web/src/models/conversation";
import { msg, welcome } from "./web-fixtures";

const seqs = (m: ConversationModel) => m.timeline.value.map((i) => i.seq);

describe("resume and dedupe by seq", () => {
  it("applies a replay after since, and drops what it already holds", () => {
    const m = new ConversationModel("c1", "alice", 3);
    m.receive(welcome(6));
    for (const s of [2, 3, 4, 5, 6]) m.receive(msg(s));
    m.receive({ t: "synced", lastSeq: 6, more: false });
    expect(seqs(m)).toEqual([4, 5, 6]);
    expect(m.applied).toBe(6);
    // A reconnect replays 6 again (it raced the close): still once.
    m.receive(welcome(7));
    m.receive(msg(6, "bob", "m6", "changed?"));
    m.receive(msg(7));
    m.receive({ t: "synced", lastSeq: 7, more: false });
    expect(seqs(m)).toEqual([4, 5, 6, 7]);
    expect(m.message(6)?.body).toBe("message 6");
  });

  it("starts from the welcome's lastSeq when opened without since", () => {
    const m = new ConversationModel("c1", "alice", null);
    m.receive(welcome(41));
    const fx = m.receive({ t: "synced", lastSeq: 41, more: false });
    expect(m.applied).toBe(41);
    expect(fx).toEqual([{ t: "history" }]); // the past comes from history
    m.receive(msg(42));
    expect(seqs(m)).toEqual([42]);
  });

  it("asks for the rest when the replay was cut at the backlog limit", () => {
    const m = new ConversationModel("c1", "alice", 0);
    m.receive(welcome(300));
    for (let s = 1; s <= 200; s++) m.receive(msg(s));
    expect(m.receive({ t: "synced", lastSeq: 200, more: true })).toEqual([{ t: "sync", since: 200 }]);
    for (let s = 201; s <= 300; s++) m.receive(msg(s));
    expect(m.receive({ t: "synced", lastSeq: 300, more: false })).toEqual([]);
    expect(m.timeline.value.length).toBe(300);
  });

  it("applies edits, deletions and reactions once each, as set and unset", () => {
    const m = new ConversationModel("c1", "alice", 0);
    m.receive(welcome(0));
    m.receive({ t: "synced", lastSeq: 0, more: false });
    m.receive(msg(1));
    m.receive({ t: "react", seq: 2, target: 1, from: "bob", emoji: "👍", on: true, ts: 1 });
    m.receive({ t: "react", seq: 2, target: 1, from: "bob", emoji: "👍", on: true, ts: 1 }); // duplicate
    m.receive({ t: "react", seq: 3, target: 1, from: "alice", emoji: "👍", on: true, ts: 1 });
    expect(m.message(1)?.reactions).toEqual([{ emoji: "👍", users: ["bob", "alice"] }]);
    m.receive({ t: "react", seq: 4, target: 1, from: "bob", emoji: "👍", on: false, ts: 1 });
    expect(m.message(1)?.reactions).toEqual([{ emoji: "👍", users: ["alice"] }]);
    m.receive({ t: "edit", seq: 5, target: 1, body: "better", ts: 2 });
    expect(m.message(1)).toMatchObject({ body: "better", edited: true });
    m.receive({ t: "delete", seq: 6, target: 1, ts: 3 });
    expect(m.message(1)).toMatchObject({ body: "", deleted: true });
    expect(m.message(1)?.reactions).toBeUndefined();
    m.receive({ t: "member", seq: 7, username: "carol", joined: true, ts: 4 });
    expect(m.members.value.map((x) => x.username)).toContain("carol");
    expect(m.timeline.value.at(-1)).toMatchObject({ kind: "member", username: "carol", joined: true });
  });
});

describe("gaps", () => {
  it("buffers an early event, asks for the gap once, and applies all in order", () => {
    const m = new ConversationModel("c1", "alice", 0);
    m.receive(welcome(0));
    m.receive({ t: "synced", lastSeq: 0, more: false });
    m.receive(msg(1));
    expect(m.receive(msg(4))).toEqual([{ t: "sync", since: 1 }]);
    expect(m.receive(msg(5))).toEqual([]); // already asked
    expect(seqs(m)).toEqual([1]);
    m.receive(msg(2));
    m.receive(msg(3));
    expect(seqs(m)).toEqual([1, 2, 3, 4, 5]);
    expect(m.applied).toBe(5);
    // The answer to the sync repeats 2..5: nothing changes.
    for (const s of [2, 3, 4, 5]) m.receive(msg(s));
    m.receive({ t: "synced", lastSeq: 5, more: false });
    expect(seqs(m)).toEqual([1, 2, 3, 4, 5]);
  });

  it("asks again after synced if a gap is still open", () => {
    const m = new ConversationModel("c1", "alice", 0);
    m.receive(welcome(0));
    m.receive({ t: "synced", lastSeq: 0, more: false });
    expect(m.receive(msg(3))).toEqual([{ t: "sync", since: 0 }]);
    m.receive(msg(1));
    expect(m.receive({ t: "synced", lastSeq: 1, more: false })).toEqual([{ t: "sync", since: 1 }]);
    m.receive(msg(2));
    expect(seqs(m)).toEqual([1, 2, 3]);
  });

  it("starts over from history when the server can no longer replay (reset)", () => {
    const m = new ConversationModel("c1", "alice", 50);
    m.receive(welcome(10));
    const fx = m.receive({ t: "synced", lastSeq: 10, more: false, reset: true });
    expect(m.applied).toBe(10);
    expect(fx).toEqual([{ t: "history" }]);
    m.receive(msg(11));
    expect(seqs(m)).toEqual([11]);
  });
});
