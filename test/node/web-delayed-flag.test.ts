/** The flag behind the "Reconnecting" bar: on only after its input stayed on a while, off at once. */
import { describe, expect, it } from "vitest";
import { DelayedFlag } from "../../web/src/lib/delayed-flag";
import { ManualTimers } from "./web-fixtures";

function setup(delayMs = 2000) {
  const timers = new ManualTimers();
  const changes: boolean[] = [];
  const flag = new DelayedFlag((on) => changes.push(on), delayMs, timers);
  return { timers, changes, flag };
}

describe("delayed flag", () => {
  it("stays off through a short break (a deploy's reconnect)", () => {
    const t = setup();
    t.flag.set(true);
    t.timers.advance(1999);
    t.flag.set(false);
    t.timers.advance(10_000);
    expect(t.changes).toEqual([]);
    expect(t.flag.on).toBe(false);
  });

  it("turns on once the input stayed on for the delay, and off as soon as it goes off", () => {
    const t = setup();
    t.flag.set(true);
    t.timers.advance(2000);
    expect(t.changes).toEqual([true]);
    t.flag.set(false);
    expect(t.changes).toEqual([true, false]);
    expect(t.timers.pending()).toEqual([]);
  });

  it("does not restart the wait when the input is set on again", () => {
    const t = setup();
    t.flag.set(true);
    t.timers.advance(1500);
    t.flag.set(true);
    t.timers.advance(500);
    expect(t.changes).toEqual([true]);
    t.flag.set(true);
    t.timers.advance(5000);
    expect(t.changes).toEqual([true]);
  });

  it("waits the whole delay again after a break", () => {
    const t = setup();
    t.flag.set(true);
    t.timers.advance(1000);
    t.flag.set(false);
    t.flag.set(true);
    t.timers.advance(1999);
    expect(t.changes).toEqual([]);
    t.timers.advance(1);
    expect(t.changes).toEqual([true]);
  });
});
