/**
 * AlarmClock: an object's one alarm, its time remembered while awake. It only ever moves earlier
 * (so a later request costs no write), is cleared when nothing is left for it (a user object gone
 * offline, issue 17), reads storage once after a wake, and forgets the time when a write fails.
 */
import { describe, expect, it } from "vitest";
import { AlarmClock } from "../../worker/alarm-clock";

/** The alarm part of a Durable Object's storage, counting what it is asked. */
function fakeStorage(initial: number | null = null) {
  const calls: string[] = [];
  let alarm = initial;
  let failNext = false;
  const storage = {
    getAlarm: async () => {
      calls.push("get");
      return alarm;
    },
    setAlarm: async (at: number) => {
      calls.push(`set ${at}`);
      if (failNext) {
        failNext = false;
        throw new Error("storage failed");
      }
      alarm = at;
    },
    deleteAlarm: async () => {
      calls.push("delete");
      alarm = null;
    },
  };
  return { storage: storage as unknown as DurableObjectStorage, calls, alarm: () => alarm, failNextWrite: () => (failNext = true) };
}

describe("AlarmClock", () => {
  it("moves the alarm earlier only, and reads storage once after a wake", async () => {
    const s = fakeStorage(5_000);
    const clock = new AlarmClock(s.storage);
    await clock.ensure(9_000);
    await clock.ensure(3_000);
    await clock.ensure(4_000);
    expect(s.calls).toEqual(["get", "set 3000"]);
    expect(s.alarm()).toBe(3_000);
  });

  it("clears a set alarm once; then sets it again when asked", async () => {
    const s = fakeStorage(5_000);
    const clock = new AlarmClock(s.storage);
    await clock.clear();
    await clock.clear();
    expect(s.alarm()).toBeNull();
    await clock.ensure(7_000);
    expect(s.calls).toEqual(["get", "delete", "set 7000"]);
    expect(s.alarm()).toBe(7_000);
  });

  it("writes nothing to clear an alarm known to be unset", async () => {
    const s = fakeStorage(null);
    const clock = new AlarmClock(s.storage);
    await clock.clear();
    clock.fired();
    await clock.clear();
    expect(s.calls).toEqual(["get"]);
  });

  it("keeps requests in order: a clear after an ensure leaves no alarm, an ensure after a clear leaves one", async () => {
    const s = fakeStorage(null);
    const clock = new AlarmClock(s.storage);
    void clock.ensure(2_000);
    await clock.clear();
    expect(s.alarm()).toBeNull();
    void clock.clear();
    await clock.ensure(8_000);
    expect(s.alarm()).toBe(8_000);
  });

  it("forgets the time when a write fails, and reads it again next time", async () => {
    const s = fakeStorage(null);
    const clock = new AlarmClock(s.storage);
    s.failNextWrite();
    await expect(clock.ensure(4_000)).rejects.toThrow("storage failed");
    await clock.ensure(6_000);
    expect(s.calls).toEqual(["get", "set 4000", "get", "set 6000"]);
    expect(s.alarm()).toBe(6_000);
  });
});
