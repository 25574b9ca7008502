/**
 * Generated input for the frame path: it never throws, it answers only with the codes it may,
 * both codecs reach the same verdict on the same frame, and every valid client frame round-trips.
 * Seeds are fixed so that a failure is reproducible; fast-check prints the shrunk counterexample.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIMITS,
  SUBPROTOCOL_JSON,
  SUBPROTOCOL_MSGPACK,
  DecodeFailure,
  createCodec,
  parseClientFrame,
  parseInboxFrame,
  parseServerFrame,
  type ClientFrame,
} from "../../protocol";
import { clientSamples } from "./samples";
import { mp, receive } from "./wire";

const msgpack = createCodec(SUBPROTOCOL_MSGPACK, DEFAULT_LIMITS);
const json = createCodec(SUBPROTOCOL_JSON, DEFAULT_LIMITS);
const RUNS = { numRuns: 400, seed: 20261122 };

// A client message is either a frame or one of these; `too_large` only for oversize messages.
const CODES = ["ok", "bad_frame", "unknown_type", "invalid", "too_large"];

const goodBytes = Object.values(clientSamples).flat().map((f) => mp(f));

/** A valid frame's bytes with a few bytes flipped, inserted or cut: near misses find more bugs. */
const mutatedBytes = fc
  .tuple(
    fc.constantFrom(...goodBytes),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "insert", "cut")), { minLength: 1, maxLength: 4 }),
  )
  .map(([base, edits]) => {
    const out = Array.from(base);
    for (const [at, byte, op] of edits) {
      const i = at % (out.length + 1);
      if (op === "set" && i < out.length) out[i] = byte;
      else if (op === "insert") out.splice(i, 0, byte);
      else out.splice(i, 1);
    }
    return Uint8Array.from(out);
  });

describe("msgpack bytes", () => {
  it("random bytes never throw and get an allowed code", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (data) => {
        expect(CODES).toContain(receive(msgpack, data).code);
      }),
      RUNS,
    );
  });

  it("mutated frames never throw and get an allowed code", () => {
    fc.assert(
      fc.property(mutatedBytes, (data) => {
        expect(CODES).toContain(receive(msgpack, data).code);
      }),
      RUNS,
    );
  });

  it("decodeAll either decodes or throws its own DecodeFailure", () => {
    fc.assert(
      fc.property(fc.oneof(mutatedBytes, fc.uint8Array({ maxLength: 64 })), (data) => {
        try {
          msgpack.decodeAll(data);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeFailure);
        }
      }),
      RUNS,
    );
  });
});

describe("JSON text", () => {
  const goodText = Object.values(clientSamples).flat().map((f) => JSON.stringify(f));
  const mutatedText = fc
    .tuple(fc.constantFrom(...goodText), fc.nat(), fc.string({ maxLength: 4, unit: fc.constantFrom("{", "}", "[", "]", '"', "\\", ",", ":", "0", "a", "\u0000") }))
    .map(([text, at, insert]) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(i);
    });

  it("random and mutated text never throws and gets an allowed code", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), mutatedText), (text) => {
        expect(CODES).toContain(receive(json, text).code);
      }),
      RUNS,
    );
  });
});

// ---- frames near the contract: the two codecs must agree ----------------------------------------

const text = fc.string({ maxLength: 24, unit: fc.constantFrom("a", "Z", " ", "\n", "\t", "\u0000", "\u001b", "\u007f", "é", "👍", "[", "{", '"', "\\") });
const number = fc.oneof(
  fc.integer({ min: -3, max: 300 }),
  fc.constantFrom(0, 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), 1.5, -0, 1e300),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const fieldValue = fc.oneof(text, number, fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.constant({ a: 1 }));
const frameLike = fc.record(
  {
    t: fc.oneof(fc.constantFrom("send", "sync", "read", "typing", "history", "edit", "delete", "react", "nope"), text),
    id: fc.oneof(text, fieldValue),
    body: fc.oneof(text, fieldValue),
    replyTo: number,
    since: number,
    seq: number,
    before: number,
    limit: number,
    target: number,
    emoji: fc.oneof(fc.constantFrom("👍", "🎉", "x".repeat(16), "x".repeat(17)), text),
    on: fc.oneof(fc.boolean(), fieldValue),
    extra: fieldValue,
  },
  { requiredKeys: ["t"] },
);

describe("the two codecs agree", () => {
  it("on the verdict for frame-like values", () => {
    fc.assert(
      fc.property(frameLike, (value) => {
        const viaMsgpack = receive(msgpack, mp(value));
        const viaJson = receive(json, JSON.stringify(value));
        expect(viaMsgpack).toEqual(viaJson);
        expect(CODES).toContain(viaMsgpack.code);
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });
});

// ---- valid client frames round-trip ---------------------------------------------------------

const seq = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const printable = fc.string({ minLength: 1, maxLength: 64, unit: fc.constantFrom("a", "Z", "0", "-", " ", "é", "👍", "中") }).filter((s) => s.trim().length > 0);
const bodyText = fc.string({ minLength: 1, maxLength: 300, unit: fc.constantFrom("a", " ", "\n", "\t", "é", "👍", "中", '"', "\\", "[") }).filter((s) => s.trim().length > 0);
const emoji = fc.constantFrom("👍", "❤️", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "x".repeat(16));

const clientFrame: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc.record({ t: fc.constant("send" as const), id: printable, body: bodyText }),
  fc.record({ t: fc.constant("send" as const), id: printable, body: bodyText, replyTo: seq }),
  fc.record({ t: fc.constant("sync" as const), since: fc.nat() }),
  fc.record({ t: fc.constant("read" as const), seq: fc.nat() }),
  fc.constant({ t: "typing" as const }),
  fc.record({ t: fc.constant("history" as const), before: seq, limit: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ t: fc.constant("history" as const), limit: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ t: fc.constant("edit" as const), target: seq, body: bodyText }),
  fc.record({ t: fc.constant("delete" as const), target: seq }),
  fc.record({ t: fc.constant("react" as const), target: seq, emoji, on: fc.boolean() }),
);

describe("valid client frames", () => {
  it("round-trip through both codecs and the guard", () => {
    fc.assert(
      fc.property(clientFrame, (frame) => {
        for (const codec of [msgpack, json]) {
          expect(receive(codec, codec.encode(frame))).toEqual({ code: "ok", frame });
        }
      }),
      RUNS,
    );
  });
});

describe("the guards take any value", () => {
  it("without throwing", () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 4, withObjectString: true, withNullPrototype: true }), (value) => {
        for (const parsed of [parseClientFrame(value, DEFAULT_LIMITS), parseServerFrame(value), parseInboxFrame(value)]) {
          expect(typeof parsed.ok).toBe("boolean");
        }
      }),
      RUNS,
    );
  });
});
