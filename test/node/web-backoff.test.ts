import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF } from "../../web/src/lib/backoff";

describe("backoff schedule", () => {
  it("grows exponentially up to the ceiling", () => {
    const top = (n: number) => backoffDelay(n, () => 1);
    expect([0, 1, 2, 3, 4].map(top)).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(top(20)).toBe(DEFAULT_BACKOFF.maxMs);
    expect(top(1000)).toBe(DEFAULT_BACKOFF.maxMs); // no overflow to Infinity or NaN
  });

  it("spreads each delay over its upper half (equal jitter)", () => {
    expect(backoffDelay(3, () => 0)).toBe(2000);
    expect(backoffDelay(3, () => 0.5)).toBe(3000);
    expect(backoffDelay(3, () => 1)).toBe(4000);
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(5)));
    expect(seen.size).toBeGreaterThan(10);
    for (const d of seen) {
      expect(d).toBeGreaterThanOrEqual(8000);
      expect(d).toBeLessThanOrEqual(16000);
    }
  });

  it("takes its options", () => {
    expect(backoffDelay(2, () => 1, { baseMs: 100, maxMs: 250, factor: 3, jitter: 0 })).toBe(250);
    expect(backoffDelay(1, () => 0.3, { baseMs: 100, maxMs: 10_000, factor: 3, jitter: 0 })).toBe(300);
  });
});
