import { describe, expect, it } from "vitest";
import type { EventFrame } from "../../protocol";
import { ReplayMemo, type ReplayPayload } from "../../worker/conversation/replay-memo";

const msg = (seq: number, body = `m${seq}`): EventFrame => ({ t: "msg", seq, id: `c${seq}`, from: "ann", body, ts: seq });

/** A log of `lastSeq` messages, counting its reads and encodes. */
function log(lastSeq: number) {
  const calls = { reads: 0, encodes: 0 };
  return {
    calls,
    read: (since: number) => () => {
      calls.reads++;
      return Array.from({ length: lastSeq - since }, (_, i) => msg(since + 1 + i));
    },
    encode: (events: readonly EventFrame[]): ReplayPayload[] => {
      calls.encodes++;
      return [JSON.stringify(events)];
    },
  };
}

describe("ReplayMemo", () => {
  it("reads and encodes a page once for every socket that asks with the same seq", () => {
    const memo = new ReplayMemo();
    const l = log(10);
    const first = memo.replay(7, 10, "m", l.read(7), l.encode);
    const second = memo.replay(7, 10, "m", l.read(7), l.encode);
    expect(second).toEqual(first);
    expect(first.upTo).toBe(10);
    expect(JSON.parse(first.payloads[0] as string).map((e: EventFrame) => e.seq)).toEqual([8, 9, 10]);
    expect(l.calls).toEqual({ reads: 1, encodes: 1 });
    // Another codec encodes the page it already read; another seq reads its own.
    memo.replay(7, 10, "j", l.read(7), l.encode);
    memo.replay(5, 10, "m", l.read(5), l.encode);
    expect(l.calls).toEqual({ reads: 2, encodes: 3 });
  });

  it("reads again once the log moved on, so a change after a replay shows in the next", () => {
    const memo = new ReplayMemo();
    const before = memo.replay(0, 2, "m", () => [msg(1), msg(2)], (e) => [JSON.stringify(e)]);
    // An edit of message 2 is event 3: the last seq moved, and the page is read again.
    const after = memo.replay(0, 3, "m", () => [msg(1), msg(2, "edited"), { t: "edit", seq: 3, target: 2, body: "edited", ts: 3 }], (e) => [JSON.stringify(e)]);
    expect(before.upTo).toBe(2);
    expect(after.upTo).toBe(3);
    expect(after.payloads[0]).toContain("edited");
  });

  it("holds an empty page's end at its seq (a page cut short by the backlog ends at its last event)", () => {
    const memo = new ReplayMemo();
    expect(memo.replay(4, 9, "m", () => [], () => []).upTo).toBe(4);
    expect(memo.replay(0, 9, "m", () => [msg(1), msg(2)], (e) => [JSON.stringify(e)]).upTo).toBe(2);
  });

  it("keeps at most its pages, the oldest dropped first, and forgets them all when cleared", () => {
    const memo = new ReplayMemo(2);
    const l = log(10);
    for (const since of [1, 2, 3]) memo.replay(since, 10, "m", l.read(since), l.encode);
    expect(l.calls.reads).toBe(3);
    memo.replay(3, 10, "m", l.read(3), l.encode);
    memo.replay(2, 10, "m", l.read(2), l.encode);
    expect(l.calls.reads).toBe(3);
    memo.replay(1, 10, "m", l.read(1), l.encode); // dropped for 3
    expect(l.calls.reads).toBe(4);
    memo.clear();
    memo.replay(1, 10, "m", l.read(1), l.encode);
    expect(l.calls.reads).toBe(5);
  });

  it("keeps no page whose encoding is over its byte budget, and drops older pages to fit one", () => {
    const big = new Uint8Array(600);
    const memo = new ReplayMemo(4, 1000);
    let reads = 0;
    const read = () => {
      reads++;
      return [msg(10)];
    };
    memo.replay(9, 10, "m", read, () => [new Uint8Array(2000)]);
    memo.replay(9, 10, "m", read, () => [new Uint8Array(2000)]);
    expect(reads).toBe(2); // too big to keep: read every time
    memo.replay(8, 10, "m", read, () => [big]);
    memo.replay(7, 10, "m", read, () => [big]); // 1 200 bytes with the one for 8: that one goes
    memo.replay(7, 10, "m", read, () => [big]);
    expect(reads).toBe(4);
    memo.replay(8, 10, "m", read, () => [big]);
    expect(reads).toBe(5);
  });
});
