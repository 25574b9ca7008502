/**
 * `chat.v1.msgpack.short`: the table is a bijection that no field name of the contract collides
 * with, every field of every frame is shortened on the wire, a frame that names one field twice is
 * refused, and the wire form of a `msg` frame is pinned byte for byte.
 */
import { decode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIMITS,
  SHORT_KEYS,
  SHORT_TYPES,
  SUBPROTOCOL_JSON,
  SUBPROTOCOL_MSGPACK,
  SUBPROTOCOL_MSGPACK_SHORT,
  chooseSubprotocol,
  createCodec,
  parseClientFrame,
} from "../../protocol";
import { all, clientSamples, inboxSamples, serverSamples } from "./samples";
import { mp } from "./wire";
import { keysOf } from "../keys";

const short = createCodec(SUBPROTOCOL_MSGPACK_SHORT, DEFAULT_LIMITS);
const long = createCodec(SUBPROTOCOL_MSGPACK, DEFAULT_LIMITS);
const json = createCodec(SUBPROTOCOL_JSON, DEFAULT_LIMITS);
const frames = [...all(clientSamples), ...all(serverSamples), ...all(inboxSamples)];

function hex(data: Uint8Array | string): string {
  if (typeof data === "string") throw new Error("msgpack must encode to bytes");
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
}

describe("the short-name table", () => {
  it("gives each field and each type its own one-character name", () => {
    for (const table of [SHORT_KEYS, SHORT_TYPES]) {
      const shorts = Object.values(table);
      expect(new Set(shorts).size).toBe(shorts.length);
      for (const s of shorts) expect(s).toHaveLength(1);
    }
  });

  it("names no field with another field's short name, so both spellings read the same", () => {
    const fieldNames = keysOf(frames);
    for (const s of Object.values(SHORT_KEYS)) expect(fieldNames.has(s), s).toBe(false);
  });

  it("covers every field name and every type that the sample frames use", () => {
    for (const k of keysOf(frames)) if (k !== "t") expect(SHORT_KEYS, k).toHaveProperty(k);
    for (const f of frames) expect(SHORT_TYPES, f.t).toHaveProperty(f.t);
  });
});

describe("chat.v1.msgpack.short on the wire", () => {
  it.each(frames.map((f) => [f.t, f] as const))("writes %s with one-character names only", (_t, frame) => {
    const raw = decode(short.encode(frame) as Uint8Array);
    for (const k of keysOf(raw)) expect(k, k).toHaveLength(1);
    expect((raw as { t: string }).t).toHaveLength(1);
  });

  it("pins the bytes of a msg frame", () => {
    const frame = { t: "msg", seq: 1, id: "m1", from: "bob", body: "hi", ts: 0 } as const;
    // 86 | a1 "t" a1 "m" | a1 "s" 01 | a1 "i" a2 "m1" | a1 "f" a3 "bob" | a1 "b" a2 "hi" | a1 "w" 00
    expect(hex(short.encode(frame))).toBe("86a174a16da17301a169a26d31a166a3626f62a162a26869a17700");
  });

  it("makes a chat-sized msg frame over 25% smaller than JSON, where plain msgpack saves about 20%", () => {
    const frame = { t: "msg", seq: 48213, id: "m3f9a", from: "b7c1_42", body: "the quick brown fox jumps over a lazy dog while ed", ts: 1_764_590_000_000 };
    const size = (d: Uint8Array | string) => (typeof d === "string" ? new TextEncoder().encode(d).byteLength : d.byteLength);
    const [j, m, s] = [json, long, short].map((c) => size(c.encode(frame))) as [number, number, number];
    expect(1 - m / j).toBeLessThan(0.21);
    expect(1 - s / j).toBeGreaterThan(0.25);
    // The difference between the two msgpack forms is exactly the names: seq, id, from, body, ts
    // lose 2, 1, 3, 3, 1 characters and "msg" loses 2.
    expect(m - s).toBe(12);
  });

  it("reads a field written with its full name too", () => {
    const decoded = short.decodeOne(mp({ t: "s", id: "m1", body: "hi" }));
    expect(decoded).toEqual({ ok: true, value: { t: "send", id: "m1", body: "hi" } });
    expect(short.decodeOne(mp({ t: "send", i: "m1", b: "hi" }))).toEqual(decoded);
  });

  it("refuses a frame that names one field twice, as a bad frame", () => {
    const twice = short.decodeOne(mp({ t: "s", i: "m1", id: "m2", b: "hi" }));
    expect(twice.ok).toBe(false);
    if (!twice.ok) expect(twice.code).toBe("bad_frame");
  });

  it("leaves an unknown type for the guard to refuse", () => {
    const decoded = short.decodeOne(mp({ t: "q" }));
    expect(decoded).toEqual({ ok: true, value: { t: "q" } });
    const parsed = parseClientFrame(decoded.ok ? decoded.value : null, DEFAULT_LIMITS);
    expect(parsed.ok).toBe(false);
  });
});

describe("negotiation", () => {
  it("prefers short names, then msgpack, then JSON, whatever the client's order", () => {
    expect(chooseSubprotocol("chat.v1.json, chat.v1.msgpack, chat.v1.msgpack.short")).toBe(SUBPROTOCOL_MSGPACK_SHORT);
    expect(chooseSubprotocol("chat.v1.json, chat.v1.msgpack")).toBe(SUBPROTOCOL_MSGPACK);
    expect(chooseSubprotocol("chat.v1.json")).toBe(SUBPROTOCOL_JSON);
    expect(chooseSubprotocol(null)).toBe(SUBPROTOCOL_MSGPACK);
  });
});
