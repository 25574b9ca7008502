/** When the app writes what it keeps for starting offline (web/src/lib/keep-schedule.ts). */
import { describe, expect, it } from "vitest";
import { KeepSchedule } from "../../web/src/lib/keep-schedule";
import { ManualTimers } from "./web-fixtures";

function schedule() {
  const timers = new ManualTimers();
  let writes = 0;
  const s = new KeepSchedule(() => writes++, 1000, timers);
  return { s, timers, writes: () => writes };
}

describe("keep schedule", () => {
  it("writes changes together, at most once a delay", () => {
    const { s, timers, writes } = schedule();
    s.soon();
    timers.advance(400);
    s.soon();
    s.soon();
    expect(writes()).toBe(0);
    timers.advance(600);
    expect(writes()).toBe(1);
    timers.advance(5000);
    expect(writes()).toBe(1);
  });

  it("writes at once when a conversation went from the list, and not again for the change that was due", () => {
    const { s, timers, writes } = schedule();
    s.listChanged(["dm", "garden"]);
    timers.advance(1000);
    expect(writes()).toBe(1);
    s.listChanged(["dm", "garden", "new"]);
    expect(writes()).toBe(1); // a conversation added: soon
    s.listChanged(["dm", "new"]);
    expect(writes()).toBe(2); // garden went: now, with what was due
    expect(timers.pending()).toEqual([]);
    timers.advance(5000);
    expect(writes()).toBe(2);
  });

  it("reordering or an unchanged list is not a removal", () => {
    const { s, writes } = schedule();
    s.listChanged(["a", "b"]);
    s.listChanged(["b", "a"]);
    s.listChanged(["b", "a"]);
    expect(writes()).toBe(0);
  });

  it("the first list drops nothing, also after a reset (another user signs in)", () => {
    const { s, writes, timers } = schedule();
    s.listChanged(["a", "b"]);
    s.reset();
    expect(timers.pending()).toEqual([]);
    s.listChanged(["c"]);
    expect(writes()).toBe(0);
    timers.advance(1000);
    expect(writes()).toBe(1);
  });

  it("now() writes what was due and cancels its timer", () => {
    const { s, timers, writes } = schedule();
    s.soon();
    s.now();
    expect(writes()).toBe(1);
    timers.advance(1000);
    expect(writes()).toBe(1);
  });
});
