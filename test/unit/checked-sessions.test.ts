/** Sessions a conversation heard were live a moment ago (worker/conversation/checked-sessions.ts). */
import { describe, expect, it } from "vitest";
import { CheckedSessions } from "../../worker/conversation/checked-sessions";

const WINDOW = 30_000;

describe("checked sessions", () => {
  it("count for one window from the last check, for their own user only", () => {
    const c = new CheckedSessions(() => WINDOW);
    const t0 = 1_000_000;
    expect(c.live("alice", "s1", t0)).toBe(false);
    c.checked("alice", "s1", t0);
    expect(c.live("alice", "s1", t0 + WINDOW - 1)).toBe(true);
    expect(c.live("alice", "s1", t0 + WINDOW)).toBe(false);
    // A token naming another user with this session is not vouched for.
    expect(c.live("bob", "s1", t0 + 1)).toBe(false);
    // Checked again (a lease renewal's answer): a new window from then.
    c.checked("alice", "s1", t0 + WINDOW);
    expect(c.live("alice", "s1", t0 + 2 * WINDOW - 1)).toBe(true);
  });

  it("forget a session signed out, and every session of an account erased", () => {
    const c = new CheckedSessions(() => WINDOW);
    const t0 = 2_000_000;
    c.checked("alice", "s1", t0);
    c.checked("alice", "s2", t0);
    c.checked("bob", "s3", t0);
    c.forget("s1");
    expect(c.live("alice", "s1", t0)).toBe(false);
    expect(c.live("alice", "s2", t0)).toBe(true);
    c.forgetUser("alice");
    expect(c.live("alice", "s2", t0)).toBe(false);
    expect(c.live("bob", "s3", t0)).toBe(true);
  });

  it("stay bounded: stale sessions go first, then the oldest, never the newest", () => {
    const c = new CheckedSessions(() => WINDOW);
    const t0 = 3_000_000;
    c.checked("alice", "kept", t0 + WINDOW);
    for (let i = 0; i < 2_000; i++) c.checked("old", `old${i}`, t0 - WINDOW);
    for (let i = 0; i < 2_000; i++) c.checked("new", `new${i}`, t0 + WINDOW);
    expect(c.live("new", "new1999", t0 + WINDOW + 1)).toBe(true);
    expect(c.live("old", "old0", t0)).toBe(false);
    // Fresh entries past the bound push out the oldest of them.
    expect(c.live("new", "new0", t0 + WINDOW + 1)).toBe(false);
  });
});
