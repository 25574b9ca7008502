/**
 * The codecs follow the configured limits (an operator may change each one), and both codecs
 * measure them alike: strings in UTF-8 bytes (keys too), entries per array or map, nesting depth
 * with the frame itself at depth 1, and the frame in bytes.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, SUBPROTOCOLS, createCodec, type WireData } from "../../protocol";
import { mp, receive } from "./wire";

const small = { ...DEFAULT_LIMITS, frameBytes: 120, decoderStrBytes: 10, decoderEntries: 3, decoderDepth: 3 };

const rows: [string, unknown, string][] = [
  ["a string of 10 bytes", { t: "typing", x: "€€€a" }, "ok"],
  ["a string of 11 bytes in 4 characters", { t: "typing", x: "€€€ab" }, "bad_frame"],
  ["a string of 12 bytes in 4 characters", { t: "typing", x: "€€€€" }, "bad_frame"],
  ["a key of 11 bytes", { t: "typing", ["k".repeat(11)]: 1 }, "bad_frame"],
  ["a key of 10 bytes", { t: "typing", ["k".repeat(10)]: 1 }, "ok"],
  ["3 entries in a map", { t: "typing", a: 1, b: 2 }, "ok"],
  ["4 entries in a map", { t: "typing", a: 1, b: 2, c: 3 }, "bad_frame"],
  ["3 entries in an array", { t: "typing", a: [1, 2, 3] }, "ok"],
  ["4 entries in an array", { t: "typing", a: [1, 2, 3, 4] }, "bad_frame"],
  ["depth 3", { t: "typing", a: [[1]] }, "ok"],
  ["depth 4", { t: "typing", a: [[[1]]] }, "bad_frame"],
  ["depth 4 through maps", { t: "typing", a: { b: { c: { d: 1 } } } }, "bad_frame"],
  ["depth 3 through maps", { t: "typing", a: { b: { c: 1 } } }, "ok"],
  ["a body over the body limit", { t: "send", id: "m", body: "x".repeat(11) }, "bad_frame"], // the string limit comes first
];

describe.each(SUBPROTOCOLS)("configured limits on %s", (protocol) => {
  const codec = createCodec(protocol, small);
  const encode = (v: unknown): WireData => (codec.binary ? mp(v) : JSON.stringify(v));

  it.each(rows)("%s", (_name, value, code) => {
    const decoded = codec.decodeOne(encode(value));
    expect(decoded.ok ? "ok" : decoded.code).toBe(code);
  });

  it("closes frames over the configured size, not at it", () => {
    const data = encode({ t: "typing", a: "x".repeat(10), b: "€€€" });
    const size = byteSize(data);
    const at = createCodec(protocol, { ...small, frameBytes: size }).decodeOne(data);
    expect(at.ok).toBe(true);
    const over = createCodec(protocol, { ...small, frameBytes: size - 1 }).decodeOne(data);
    expect(over.ok ? "ok" : over.code).toBe("too_large");
  });
});

function byteSize(data: WireData): number {
  return typeof data === "string" ? new TextEncoder().encode(data).byteLength : data.byteLength;
}

describe("the body limit is the guard's, in characters", () => {
  it("applies after decoding, with the default decoder limits", () => {
    for (const protocol of SUBPROTOCOLS) {
      const codec = createCodec(protocol, DEFAULT_LIMITS);
      const frame = { t: "send", id: "m1", body: "€".repeat(4000) }; // 12 000 bytes, 4000 characters
      expect(receive(codec, codec.encode(frame))).toEqual({ code: "ok", frame });
    }
  });
});
