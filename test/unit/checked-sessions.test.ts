/** Sessions a conversation heard were live a moment ago (worker/conversation/checked-sessions.ts). */
import { describe, expect, it } from "vitest";
import { CHECKED_SESSIONS_KEPT, CheckedSessions, type CheckedEntry, type CheckedStorage } from "../../worker/conversation/checked-sessions";

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

  describe("kept in storage", () => {
    /** A storage that holds `rows` and notes what it is asked to do. */
    function storage(rows: [string, CheckedEntry][]) {
      const log = { later: [] as string[], removed: [] as unknown[], loads: 0 };
      const s: CheckedStorage = {
        load: () => {
          log.loads++;
          return rows;
        },
        later: (session) => log.later.push(session),
        removeNow: (what) => log.removed.push(what),
      };
      return { s, log };
    }

    it("a wake finds the fresh checks stored, reads them once, and drops the stale ones from storage", () => {
      const now = Date.now();
      const { s, log } = storage([
        ["old", { user: "alice", until: now - 1 }],
        ["fresh", { user: "alice", until: now + WINDOW }],
      ]);
      const c = new CheckedSessions(() => WINDOW, s);
      expect(c.live("alice", "fresh", now)).toBe(true);
      expect(c.live("alice", "old", now)).toBe(false);
      expect(log.later).toEqual(["old"]);
      // The entry is gone from memory, so the write that follows deletes its row.
      expect(c.entry("old")).toBeUndefined();
      c.checked("bob", "s2", now);
      expect(log.loads).toBe(1);
      expect(log.later).toEqual(["old", "s2"]);
      expect(c.entry("s2")).toEqual({ user: "bob", until: now + WINDOW });
    });

    it("a sign-out is removed from storage at once, held in memory or not; an erased account's sessions too", () => {
      const now = Date.now();
      const { s, log } = storage([]);
      const c = new CheckedSessions(() => WINDOW, s);
      c.checked("alice", "s1", now);
      c.forget("s1");
      c.forget("never-seen");
      c.forgetUser("bob");
      expect(log.removed).toEqual([{ session: "s1" }, { session: "never-seen" }, { user: "bob" }]);
      expect(c.live("alice", "s1", now)).toBe(false);
    });

    it("what the bound pushes out leaves storage too, and a wake keeps no more than the bound", () => {
      const now = Date.now();
      const rows: [string, CheckedEntry][] = [];
      for (let i = 0; i < CHECKED_SESSIONS_KEPT + 5; i++) rows.push([`s${i}`, { user: "u", until: now + WINDOW + i }]);
      const { s, log } = storage(rows);
      const c = new CheckedSessions(() => WINDOW, s);
      // The newest are kept; the oldest five leave storage.
      expect(c.live("u", `s${CHECKED_SESSIONS_KEPT + 4}`, now)).toBe(true);
      expect(c.live("u", "s5", now)).toBe(true);
      expect(c.live("u", "s4", now)).toBe(false);
      expect(log.later).toEqual(["s0", "s1", "s2", "s3", "s4"]);
      log.later.length = 0;
      c.checked("u", "new", now);
      // The oldest went to make room, from memory and from storage.
      expect(c.live("u", "s5", now)).toBe(false);
      expect(log.later).toEqual(["s5", "new"]);
    });
  });
});
