import { describe, expect, it } from "vitest";
import { SeqCeiling } from "../../worker/conversation/seq-ceiling";

describe("SeqCeiling", () => {
  it("reads the bound once, then only raises it", () => {
    let reads = 0;
    const c = new SeqCeiling(() => {
      reads++;
      return 5;
    });
    expect(c.above([6, 9])).toBe(true);
    expect(c.above([9, 5])).toBe(false);
    c.raise(3); // lower than the bound: it stays at 5
    expect(c.above([6])).toBe(true);
    c.raise(8);
    expect(c.above([6])).toBe(false);
    expect(c.above([9])).toBe(true);
    expect(reads).toBe(1);
  });

  it("raises a bound not yet read from what is stored, and holds nothing above an empty list", () => {
    const c = new SeqCeiling(() => 10);
    c.raise(4);
    expect(c.above([7])).toBe(false);
    expect(c.above([])).toBe(true);
  });
});
