/**
 * Fuzzing of decodeOne + parseClientFrame, as the conversation object runs them on every frame:
 * 10 000 random frames and 10 000 mutated valid frames per run, each through both codecs. They
 * never throw, a decoded value is always within the decoder limits, and a frame is accepted
 * exactly when the contract (the oracle in fuzz-frames.ts) says it is valid, as that frame.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createJsonCodec, createMsgpackCodec, parseClientFrame } from "../../protocol";
import { LIMITS, mutatedFrame, randomFrame, specFrame, validFrame, wellFormed, withinDecoderLimits, type WireFrame } from "./fuzz-frames";

const codecs = [createMsgpackCodec(LIMITS), createJsonCodec(LIMITS)];
const RUNS = 10_000;

/** fc.assert, with a report that survives the trip to vitest (see wellFormed). */
function assertProperty<T>(property: fc.IPropertyWithHooks<T> | fc.IProperty<T>, params: fc.Parameters<T>): void {
  try {
    fc.assert(property, params);
  } catch (err) {
    throw new Error(wellFormed(err instanceof Error ? err.message : String(err)));
  }
}

interface Tally {
  frames: number;
  decoded: number;
  accepted: number;
}

/** The property for one wire frame on both sockets; throws (fails the run) on any breach. */
function checkFrame(frame: WireFrame, tally: Tally): void {
  for (const codec of codecs) {
    tally.frames++;
    const decoded = codec.decodeOne(frame.data);
    if (!decoded.ok) {
      expect(["too_large", "bad_frame"]).toContain(decoded.code);
      continue;
    }
    tally.decoded++;
    expect(withinDecoderLimits(decoded.value)).toBe(true);
    const parsed = parseClientFrame(decoded.value, LIMITS);
    const expected = specFrame(decoded.value);
    if (parsed.ok) {
      tally.accepted++;
      expect(parsed.frame).toEqual(expected);
    } else {
      expect(expected).toBeNull();
      expect(typeof parsed.message).toBe("string");
    }
  }
}

describe("fuzzing the frame decoder and guards", () => {
  it(`never throws and accepts only valid frames: ${RUNS} random frames`, () => {
    const tally: Tally = { frames: 0, decoded: 0, accepted: 0 };
    assertProperty(
      fc.property(randomFrame, (frames) => {
        for (const f of frames) checkFrame(f, tally);
      }),
      { numRuns: RUNS },
    );
    // The generators must reach past the decoder and, now and then, produce a valid frame.
    expect(tally.decoded).toBeGreaterThan(tally.frames / 4);
    expect(tally.accepted).toBeGreaterThan(20);
  });

  it(`never throws and accepts only valid frames: ${RUNS} mutated valid frames`, () => {
    const tally: Tally = { frames: 0, decoded: 0, accepted: 0 };
    assertProperty(
      fc.property(mutatedFrame, (frames) => {
        for (const f of frames) checkFrame(f, tally);
      }),
      { numRuns: RUNS },
    );
    expect(tally.decoded).toBeGreaterThan(tally.frames / 4);
    expect(tally.accepted).toBeGreaterThan(RUNS / 20);
  });

  it("accepts every valid frame, unchanged, on both codecs", () => {
    assertProperty(
      fc.property(validFrame, (frame) => {
        for (const codec of codecs) {
          const decoded = codec.decodeOne(codec.encode(frame));
          expect(decoded.ok).toBe(true);
          if (!decoded.ok) return;
          const parsed = parseClientFrame(decoded.value, LIMITS);
          expect(parsed).toEqual({ ok: true, frame: specFrame(frame) });
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it("refuses fields smuggled in through an own __proto__ key", () => {
    const text = '{"t":"typing","__proto__":{"t":"send","id":"x","body":"smuggled"}}';
    const decoded = createJsonCodec(LIMITS).decodeOne(text);
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(parseClientFrame(decoded.value, LIMITS)).toEqual({ ok: true, frame: { t: "typing" } });
    const noType = '{"__proto__":{"t":"send","id":"x","body":"smuggled"}}';
    const d2 = createJsonCodec(LIMITS).decodeOne(noType);
    expect(d2.ok && parseClientFrame(d2.value, LIMITS).ok).toBe(false);
  });
});
