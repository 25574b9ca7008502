/** The allowance of upgrades that skip the session check (worker/conversation/quick-admits.ts). */
import { describe, expect, it } from "vitest";
import { QUICK_ADMIT_WINDOW_MS, QUICK_ADMITS_PER_WINDOW, QuickAdmits } from "../../worker/conversation/quick-admits";

describe("quick admits", () => {
  it("allow a few per session per window, each session its own, and start again with the next window", () => {
    const q = new QuickAdmits();
    const t0 = 1_000_000;
    for (let i = 0; i < QUICK_ADMITS_PER_WINDOW; i++) expect(q.take("s1", t0 + i)).toBe(true);
    expect(q.take("s1", t0 + 100)).toBe(false);
    expect(q.take("s2", t0 + 100)).toBe(true);
    expect(q.take("s1", t0 + QUICK_ADMIT_WINDOW_MS - 1)).toBe(false);
    expect(q.take("s1", t0 + QUICK_ADMIT_WINDOW_MS)).toBe(true);
  });

  it("forget stale sessions without forgetting a spent one", () => {
    const q = new QuickAdmits();
    const t0 = 5_000_000;
    for (let i = 0; i < QUICK_ADMITS_PER_WINDOW; i++) q.take("spent", t0);
    // Many sessions seen long ago, then new ones: the stale are dropped, the spent one is kept.
    for (let i = 0; i < 300; i++) q.take(`old${i}`, t0 - QUICK_ADMIT_WINDOW_MS);
    for (let i = 0; i < 300; i++) q.take(`new${i}`, t0 + 1);
    expect(q.take("spent", t0 + 2)).toBe(false);
  });
});
