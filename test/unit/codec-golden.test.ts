/**
 * Golden bytes: the exact wire form of a few frames in both codecs. The hex strings were checked
 * by hand against the msgpack spec (fixmap 0x8N, fixstr 0xaN, uint16 0xcd, uint32 0xce,
 * uint64 0xcf, false 0xc2, true 0xc3), so an accidental change of the wire format (another
 * encoder, other options, integers as floats, a changed field name) fails here first.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, createJsonCodec, createMsgpackCodec, type AnyServerFrame, type ClientFrame } from "../../protocol";

const msgpack = createMsgpackCodec(DEFAULT_LIMITS);
const json = createJsonCodec(DEFAULT_LIMITS);

function hex(data: Uint8Array | string): string {
  if (typeof data === "string") throw new Error("msgpack must encode to bytes");
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
}

function bytes(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

const golden: { frame: ClientFrame | AnyServerFrame; hex: string; json: string }[] = [
  {
    frame: { t: "send", id: "m1", body: "hi" },
    // 83 | a1 "t" a4 "send" | a2 "id" a2 "m1" | a4 "body" a2 "hi"
    hex: "83a174a473656e64a26964a26d31a4626f6479a26869",
    json: '{"t":"send","id":"m1","body":"hi"}',
  },
  {
    frame: { t: "ack", id: "m1", seq: 1, ts: 1_763_776_532_123 },
    // ts as uint64: cf 0000019aa9460e9b
    hex: "84a174a361636ba26964a26d31a373657101a27473cf0000019aa9460e9b",
    json: '{"t":"ack","id":"m1","seq":1,"ts":1763776532123}',
  },
  {
    frame: { t: "react", seq: 300, target: 70000, from: "bob", emoji: "👍", on: false, ts: 0 },
    // seq uint16 cd 012c, target uint32 ce 00011170, emoji as UTF-8 f09f918d, on c2, ts fixint 00
    hex: "87a174a57265616374a3736571cd012ca6746172676574ce00011170a466726f6da3626f62a5656d6f6a69a4f09f918da26f6ec2a2747300",
    json: '{"t":"react","seq":300,"target":70000,"from":"bob","emoji":"👍","on":false,"ts":0}',
  },
  {
    frame: { t: "synced", lastSeq: 0, more: true },
    hex: "83a174a673796e636564a76c61737453657100a46d6f7265c3",
    json: '{"t":"synced","lastSeq":0,"more":true}',
  },
  {
    frame: { t: "error", code: "bad_frame", message: "x", id: "é" },
    // "é" is two UTF-8 bytes (a2 c3a9); JSON keeps it unescaped
    hex: "84a174a56572726f72a4636f6465a96261645f6672616d65a76d657373616765a178a26964a2c3a9",
    json: '{"t":"error","code":"bad_frame","message":"x","id":"é"}',
  },
];

describe("golden wire bytes", () => {
  it.each(golden.map((g) => [g.frame.t, g] as const))("%s encodes to the exact msgpack bytes and JSON text", (_t, g) => {
    expect(hex(msgpack.encode(g.frame))).toBe(g.hex);
    expect(json.encode(g.frame)).toBe(g.json);
  });

  it.each(golden.map((g) => [g.frame.t, g] as const))("%s decodes from the golden bytes and text", (_t, g) => {
    expect(msgpack.decodeAll(bytes(g.hex))).toEqual([g.frame]);
    expect(json.decodeAll(g.json)).toEqual([g.frame]);
  });

  it("batches as values back to back (msgpack) and as a JSON array", () => {
    const [a, b] = [golden[0]!, golden[3]!];
    expect(hex(msgpack.encodeBatch([a.frame, b.frame]))).toBe(a.hex + b.hex);
    expect(json.encodeBatch([a.frame, b.frame])).toBe(`[${a.json},${b.json}]`);
    expect(msgpack.decodeAll(bytes(a.hex + b.hex))).toEqual([a.frame, b.frame]);
  });
});
