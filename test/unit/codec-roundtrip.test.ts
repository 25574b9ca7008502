/**
 * Every frame of the contract survives both codecs unchanged, alone and in batches, and passes
 * its own guard unchanged: what the server encodes is exactly what a client reads back.
 */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIMITS,
  DecodeFailure,
  createCodec,
  isRecord,
  parseClientFrame,
  parseInboxFrame,
  parseServerFrame,
  SUBPROTOCOLS,
  type Codec,
} from "../../protocol";
import { all, clientSamples, inboxSamples, serverSamples } from "./samples";

const clientFrames = all(clientSamples);
const serverFrames = all(serverSamples);
const inboxFrames = all(inboxSamples);

describe.each(SUBPROTOCOLS)("codec %s", (protocol) => {
  const codec: Codec = createCodec(protocol, DEFAULT_LIMITS);

  it("says which kind of websocket frame it uses", () => {
    expect(codec.protocol).toBe(protocol);
    expect(typeof codec.encode({ t: "typing" }) === "string").toBe(!codec.binary);
  });

  it.each(clientFrames.map((f) => [f.t, f] as const))("client frame %s round-trips through decodeOne and the guard", (_t, frame) => {
    const decoded = codec.decodeOne(codec.encode(frame));
    expect(decoded).toEqual({ ok: true, value: frame });
    expect(parseClientFrame(decoded.ok ? decoded.value : null, DEFAULT_LIMITS)).toEqual({ ok: true, frame });
  });

  it.each(serverFrames.map((f) => [f.t, f] as const))("conversation frame %s round-trips through decodeAll and the guard", (_t, frame) => {
    const values = codec.decodeAll(codec.encode(frame));
    expect(values).toEqual([frame]);
    expect(parseServerFrame(values[0])).toEqual({ ok: true, frame });
  });

  it.each(inboxFrames.map((f) => [f.t, f] as const))("inbox frame %s round-trips through decodeAll and the guard", (_t, frame) => {
    const values = codec.decodeAll(codec.encode(frame));
    expect(values).toEqual([frame]);
    expect(parseInboxFrame(values[0])).toEqual({ ok: true, frame });
  });

  it("keeps the order of a batch of every server frame", () => {
    const frames = [...serverFrames, ...serverFrames.slice().reverse()];
    expect(codec.decodeAll(codec.encodeBatch(frames))).toEqual(frames);
    expect(codec.decodeAll(codec.encodeBatch(inboxFrames))).toEqual(inboxFrames);
  });

  it("decodes a batch of one, and an ArrayBuffer as well as a Uint8Array", () => {
    const frame = serverSamples.ack[0]!;
    expect(codec.decodeAll(codec.encodeBatch([frame]))).toEqual([frame]);
    const data = codec.encodeBatch([frame, frame]);
    if (typeof data !== "string") {
      const copy = data.slice().buffer;
      expect(codec.decodeAll(copy)).toEqual([frame, frame]);
      // A view into a larger buffer, as a runtime may hand over.
      const padded = new Uint8Array(data.byteLength + 8);
      padded.set(data, 4);
      expect(codec.decodeAll(padded.subarray(4, 4 + data.byteLength))).toEqual([frame, frame]);
      expect(codec.decodeOne(padded.subarray(4, 4 + codec.encode(frame).length))).toEqual({ ok: true, value: frame });
    }
  });

  it("decodes server messages beyond the client-frame limits: a full room, a long inbox, a big batch", () => {
    // The decoder limits (1000 entries, 64 KiB strings) guard the server against a client's frame;
    // a server's message is larger by design: welcome lists up to 10 000 members (roomMembers).
    const members = Array.from({ length: DEFAULT_LIMITS.roomMembers }, (_, i) => ({ username: `user${i}`, name: `User ${i}`, online: i % 2 === 0, readSeq: i }));
    const welcome = { t: "welcome", conv: { ...serverSamples.welcome[0]!.conv }, me: "user0", members };
    expect(codec.decodeAll(codec.encode(welcome))).toEqual([welcome]);
    const conversations = Array.from({ length: 2000 }, (_, i) => ({ id: `c${i}`, kind: "room", title: `Room ${i}`, lastSeq: i, readSeq: 0, unread: i }));
    const inbox = { t: "inbox", conversations, online: members.map((m) => m.username) };
    expect(codec.decodeAll(codec.encode(inbox))).toEqual([inbox]);
    const batch = Array.from({ length: 1500 }, (_, i) => ({ t: "msg", seq: i + 1, id: `m${i}`, from: "a", body: "x".repeat(100), ts: 1 }));
    expect(codec.decodeAll(codec.encodeBatch(batch))).toEqual(batch);
    const long = { t: "msg", seq: 1, id: "m", from: "a", body: "é".repeat(40_000), ts: 1 };
    expect(codec.decodeAll(codec.encode(long))).toEqual([long]);
  });

  it("keeps working after a message it could not decode", () => {
    const broken = codec.binary ? Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff) : "[{";
    expect(() => codec.decodeAll(broken)).toThrow(DecodeFailure);
    expect(codec.decodeAll(codec.encode(serverSamples.ack[0]!))).toEqual([serverSamples.ack[0]]);
  });

  it("drops undefined fields instead of sending them", () => {
    const encoded = codec.encode({ t: "ack", id: "m1", seq: 1, ts: 2, dup: undefined });
    expect(codec.decodeAll(encoded)).toEqual([{ t: "ack", id: "m1", seq: 1, ts: 2 }]);
    const value = codec.decodeAll(encoded)[0];
    expect(isRecord(value) ? Object.keys(value) : value).toEqual(["t", "id", "seq", "ts"]);
  });
});

describe("both codecs agree", () => {
  it("decode each other's frames to the same values", () => {
    const [msgpack, json] = SUBPROTOCOLS.map((p) => createCodec(p, DEFAULT_LIMITS));
    for (const frame of [...clientFrames, ...serverFrames, ...inboxFrames]) {
      expect(msgpack!.decodeAll(msgpack!.encode(frame))).toEqual(json!.decodeAll(json!.encode(frame)));
    }
  });
});
