/**
 * Hostile frames (PROTOCOL.md sections 5 and 6): each is answered with an `error` (or closes the
 * socket that sent it, for the frame and bad-frame limits), changes no stored state, and leaves
 * the object and the other members' sockets working.
 */
import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { SUBPROTOCOL_JSON, type ErrorCode, type ErrorFrame } from "../../protocol";
import { closeAll, dm, join, signup, storedState, type Account, type TestClient } from "./helpers";

interface Hostile {
  name: string;
  data: string | Uint8Array;
  code: ErrorCode;
  /** The error names the frame's id when it had a usable one. */
  id?: string;
}

const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);
const wideMap = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]));
const valid = encode({ t: "send", id: "v", body: "valid" });

const MSGPACK_HOSTILE: Hostile[] = [
  { name: "never-used byte", data: new Uint8Array([0xc1]), code: "bad_frame" },
  { name: "empty frame", data: new Uint8Array(0), code: "bad_frame" },
  { name: "truncated frame", data: valid.slice(0, valid.byteLength - 3), code: "bad_frame" },
  { name: "a map that declares 4 billion entries", data: new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x74]), code: "bad_frame" },
  { name: "a string that declares 4 GB", data: new Uint8Array([0x81, 0xa1, 0x74, 0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]), code: "bad_frame" },
  { name: "two frames in one message", data: new Uint8Array([...valid, ...valid]), code: "bad_frame" },
  { name: "an extension type", data: new Uint8Array([0xd4, 0x01, 0x00]), code: "bad_frame" },
  { name: "a text frame on a binary socket", data: JSON.stringify({ t: "send", id: "x", body: "y" }), code: "bad_frame" },
  { name: "not a map", data: encode([1, 2, 3]), code: "bad_frame" },
  { name: "no type", data: encode({ id: "x", body: "y" }), code: "bad_frame" },
  { name: "nested deeper than 8", data: encode({ t: "send", id: "deep", body: "x", extra: deep(9) }), code: "bad_frame" },
  { name: "more than 1 000 entries", data: encode({ t: "send", id: "wide", body: "x", ...wideMap }), code: "bad_frame" },
  { name: "unknown type", data: encode({ t: "explode", id: "u1" }), code: "unknown_type", id: "u1" },
  { name: "a server frame type", data: encode({ t: "ack", id: "a1", seq: 1, ts: 1 }), code: "unknown_type", id: "a1" },
  { name: "body of the wrong type", data: encode({ t: "send", id: "w1", body: 42 }), code: "invalid", id: "w1" },
  { name: "body of 4 001 characters", data: encode({ t: "send", id: "big", body: "x".repeat(4001) }), code: "too_large", id: "big" },
  { name: "blank body", data: encode({ t: "send", id: "blank", body: "   " }), code: "invalid", id: "blank" },
  { name: "control characters in the body", data: encode({ t: "send", id: "ctl", body: "a\u0000b" }), code: "invalid", id: "ctl" },
  { name: "an id of 65 characters", data: encode({ t: "send", id: "i".repeat(65), body: "x" }), code: "invalid" },
  { name: "a negative read mark", data: encode({ t: "read", seq: -1 }), code: "invalid" },
  { name: "a fractional target", data: encode({ t: "delete", target: 1.5 }), code: "invalid" },
  { name: "a string where a number goes", data: encode({ t: "edit", target: "1", body: "x" }), code: "invalid" },
  { name: "a reaction of 17 characters", data: encode({ t: "react", target: 1, emoji: "x".repeat(17), on: true }), code: "invalid" },
  { name: "a reaction without `on`", data: encode({ t: "react", target: 1, emoji: "👍" }), code: "invalid" },
];

const JSON_HOSTILE: Hostile[] = [
  { name: "malformed JSON", data: '{"t":"send",', code: "bad_frame" },
  { name: "a binary frame on a text socket", data: encode({ t: "typing" }), code: "bad_frame" },
  { name: "a batch from a client", data: JSON.stringify([{ t: "typing" }, { t: "typing" }]), code: "bad_frame" },
  { name: "a bare string", data: JSON.stringify("send"), code: "bad_frame" },
  { name: "nested deeper than 8", data: JSON.stringify({ t: "send", id: "d", body: "x", extra: deep(9) }), code: "bad_frame" },
  { name: "a prototype key", data: '{"t":"nope","__proto__":{"polluted":true},"id":"p1"}', code: "unknown_type", id: "p1" },
];

async function setting() {
  const alice = await signup("alice");
  const bob = await signup("bob");
  const conv = await dm(alice, bob);
  const b = await join(conv.id, bob);
  b.send({ t: "send", id: "seed", body: "a message to aim at" });
  await b.next("ack");
  return { alice, bob, conv, b };
}

/** Bob's socket still gets answers: a history request, which changes nothing. */
async function stillServed(b: TestClient): Promise<void> {
  const n = b.of("history").length;
  b.send({ t: "history", limit: 1 });
  await b.until((f) => f.filter((x) => x.t === "history").length === n + 1);
}

function noStack(e: ErrorFrame): void {
  expect(e.message.length).toBeLessThan(300);
  expect(e.message).not.toMatch(/\n\s+at |\.ts:\d+/);
}

async function throwEach(hostile: Hostile[], convId: string, attacker: Account, b: TestClient, protocol?: typeof SUBPROTOCOL_JSON): Promise<void> {
  const a = await join(convId, attacker, protocol ? { protocol } : {});
  const before = await storedState(convId);
  for (const [i, h] of hostile.entries()) {
    a.sendRaw(h.data);
    await a.until((f) => f.filter((x) => x.t === "error").length === i + 1);
    const err = a.of("error")[i]!;
    expect({ name: h.name, code: err.code, id: err.id }).toEqual({ name: h.name, code: h.code, id: h.id });
    noStack(err);
    expect(await storedState(convId), h.name).toBe(before);
    await stillServed(b);
  }
  expect(a.closeCode).toBeNull();
  // The attacker's socket is still usable for good frames, below the bad-frame limit.
  a.send({ t: "send", id: "fine", body: "a good frame after all that" });
  expect(await b.next("msg", (m) => m.id === "fine")).toMatchObject({ seq: 2 });
  await closeAll(a);
}

describe("hostile frames", () => {
  it("msgpack: each is answered with the right error, changes nothing, and others are still served", async () => {
    const { alice, conv, b } = await setting();
    await throwEach(MSGPACK_HOSTILE.slice(0, 12), conv.id, alice, b);
    // A second socket for the rest: the bad-frame limit is per socket and minute.
    const { alice: alice2, conv: conv2, b: b2 } = await setting();
    await throwEach(MSGPACK_HOSTILE.slice(12), conv2.id, alice2, b2);
    await closeAll(b, b2);
  });

  it("JSON: each is answered with the right error, changes nothing, and others are still served", async () => {
    const { alice, conv, b } = await setting();
    await throwEach(JSON_HOSTILE, conv.id, alice, b, SUBPROTOCOL_JSON);
    expect(Object.prototype).not.toHaveProperty("polluted");
    await closeAll(b);
  });

  it("more than 20 bad frames in a minute: closed with 1008 after 20 errors; others unaffected", async () => {
    const { alice, conv, b } = await setting();
    const a = await join(conv.id, alice);
    const before = await storedState(conv.id);
    for (let i = 0; i < 21; i++) a.sendRaw(new Uint8Array([0xc1]));
    expect(await a.closed()).toBe(1008);
    expect(a.of("error")).toHaveLength(20);
    expect(await storedState(conv.id)).toBe(before);
    await stillServed(b);
    // The limit is per socket: a new socket of the same user starts afresh.
    const a2 = await join(conv.id, alice);
    a2.sendRaw(new Uint8Array([0xc1]));
    expect(await a2.next("error")).toMatchObject({ code: "bad_frame" });
    a2.send({ t: "send", id: "ok", body: "ok" });
    expect(await b.next("msg", (m) => m.id === "ok")).toMatchObject({ seq: 2 });
    await closeAll(a2, b);
  });

  it("a frame over 64 KiB closes that socket with 1009, binary or text; others unaffected", async () => {
    const { alice, conv, b } = await setting();
    const before = await storedState(conv.id);
    const a = await join(conv.id, alice);
    a.sendRaw(encode({ t: "send", id: "huge", body: "x".repeat(64 * 1024) }));
    expect(await a.closed()).toBe(1009);
    const j = await join(conv.id, alice, { protocol: SUBPROTOCOL_JSON });
    // Multi-byte characters: 22 000 characters, 66 000 bytes.
    j.sendRaw(JSON.stringify({ t: "send", id: "huge", body: "€".repeat(22_000) }));
    expect(await j.closed()).toBe(1009);
    expect(await storedState(conv.id)).toBe(before);
    await stillServed(b);
    // Just under the limit is a frame like any other (its body is then too long: an error, no close).
    const c = await join(conv.id, alice);
    c.sendRaw(encode({ t: "send", id: "under", body: "x".repeat(60 * 1024) }));
    expect(await c.next("error")).toMatchObject({ code: "too_large", id: "under" });
    expect(c.closeCode).toBeNull();
    await closeAll(c, b);
  });
});
