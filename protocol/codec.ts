/**
 * The two codecs of the contract behind one interface: `chat.v1.msgpack` (binary, the default) and
 * `chat.v1.json` (text). Decoding checks the frame's size first, then its structure (sizes, counts,
 * depth) and only then builds values; a client's message must hold exactly one frame, a server's
 * may hold a batch.
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import { SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK, SUBPROTOCOL_MSGPACK_SHORT, type Subprotocol } from "./limits";
import { scanMsgpack, ScanError, type ScanLimits } from "./msgpack-scan";
import { expandFrame, FieldNameError, shortenFrame } from "./short-keys";

export interface CodecLimits extends ScanLimits {
  frameBytes: number;
}

export type Decoded =
  | { ok: true; value: unknown }
  /** `too_large`: close with 1009. `bad_frame`: answer with an error frame. */
  | { ok: false; code: "too_large" | "bad_frame"; message: string };

export type WireData = string | ArrayBuffer | Uint8Array;

export interface Codec {
  readonly protocol: Subprotocol;
  /** Binary frames (msgpack) or text frames (JSON). */
  readonly binary: boolean;
  /** One frame as one websocket message. */
  encode(frame: object): Uint8Array | string;
  /** Several frames as one websocket message (a batch). */
  encodeBatch(frames: readonly object[]): Uint8Array | string;
  /** A client's message: exactly one frame, within the limits. Never throws. */
  decodeOne(data: WireData): Decoded;
  /** A server's message: one frame or a batch, in order. Throws DecodeFailure. */
  decodeAll(data: WireData): unknown[];
}

/** The parts one after another in one buffer (msgpack batches are values back to back). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export class DecodeFailure extends Error {
  override readonly name = "DecodeFailure";
}

const utf8 = new TextEncoder();

/** UTF-8 size of a message; a string longer than the limit in code units is too large anyway. */
function byteLength(data: WireData, limit: number): number {
  if (typeof data !== "string") return data.byteLength;
  if (data.length > limit) return data.length;
  return data.length * 3 <= limit ? data.length : utf8.encode(data).byteLength;
}

function tooLarge(size: number, limit: number): Decoded {
  return { ok: false, code: "too_large", message: `frame of ${size} bytes is larger than ${limit}` };
}

function bad(message: string): Decoded {
  return { ok: false, code: "bad_frame", message };
}

/**
 * Limits for a server's message (decodeAll). The decoder limits of the contract guard the server
 * against a client's frame; a server's message is larger by design (a welcome lists up to 10 000
 * members, a batch holds up to a backlog of events), so only nesting stays bounded here. The scan
 * still checks every declared length against the bytes that are really there, so a hostile or
 * corrupt message cannot make the decoder allocate more than its own size.
 */
const SERVER_MESSAGE_LIMITS: ScanLimits = Object.freeze({
  decoderStrBytes: Number.MAX_SAFE_INTEGER,
  decoderEntries: Number.MAX_SAFE_INTEGER,
  decoderDepth: 32,
});

/**
 * `chat.v1.msgpack`, or with `short` `chat.v1.msgpack.short`: the same frames with the names of
 * short-keys.ts, shortened after the frame is built and restored before any guard reads it.
 */
export function createMsgpackCodec(limits: CodecLimits, short = false): Codec {
  const toWire: (frame: unknown) => unknown = short ? shortenFrame : (f) => f;
  const fromWire: (frame: unknown) => unknown = short ? expandFrame : (f) => f;
  const encoder = new Encoder({ ignoreUndefined: true });
  const decoderOptions = {
    maxStrLength: limits.decoderStrBytes,
    maxBinLength: limits.decoderStrBytes,
    maxArrayLength: limits.decoderEntries,
    maxMapLength: limits.decoderEntries,
    maxExtLength: 0,
  };
  const decoder = new Decoder(decoderOptions);
  // Server messages: no length caps beyond the scan's (each length must fit in the message).
  const batchDecoder = new Decoder({ maxExtLength: 0 });
  const toBytes = (data: WireData): Uint8Array | null =>
    typeof data === "string" ? null : data instanceof Uint8Array ? data : new Uint8Array(data);

  return {
    protocol: short ? SUBPROTOCOL_MSGPACK_SHORT : SUBPROTOCOL_MSGPACK,
    binary: true,
    encode: (frame) => encoder.encode(toWire(frame)),
    encodeBatch: (frames) => concatBytes(frames.map((f) => encoder.encode(toWire(f)))),
    decodeOne(data) {
      const bytes = toBytes(data);
      if (bytes === null) return bad("text frame on a binary (msgpack) socket");
      if (bytes.byteLength > limits.frameBytes) return tooLarge(bytes.byteLength, limits.frameBytes);
      if (bytes.byteLength === 0) return bad("empty frame");
      try {
        scanMsgpack(bytes, limits, 1);
        return { ok: true, value: fromWire(decoder.decode(bytes)) };
      } catch (err) {
        return bad(err instanceof Error && err.message ? `malformed msgpack: ${err.message}` : "malformed msgpack");
      }
    },
    decodeAll(data) {
      const bytes = toBytes(data);
      if (bytes === null) throw new DecodeFailure("text frame on a binary (msgpack) socket");
      try {
        scanMsgpack(bytes, SERVER_MESSAGE_LIMITS);
        return [...batchDecoder.decodeMulti(bytes)].map(fromWire);
      } catch (err) {
        throw new DecodeFailure(err instanceof ScanError || err instanceof FieldNameError ? err.message : "malformed msgpack");
      }
    },
  };
}

/** Depth of the deepest bracket in JSON text, ignoring brackets inside strings. */
function jsonDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) return false; }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return true;
}

/** Whether a string's UTF-8 form is longer than `limit` bytes, as msgpack would measure it. */
function longerThan(s: string, limit: number): boolean {
  if (s.length > limit) return true;
  return s.length * 3 > limit && byteLength(s, limit) > limit;
}

/** Entries and string sizes (values and keys) of a parsed JSON value, against the decoder limits. */
function jsonWithinLimits(root: unknown, limits: ScanLimits): string | null {
  const tooLong = `string longer than ${limits.decoderStrBytes} bytes`;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") {
      if (longerThan(v, limits.decoderStrBytes)) return tooLong;
    } else if (Array.isArray(v)) {
      if (v.length > limits.decoderEntries) return `more than ${limits.decoderEntries} entries`;
      stack.push(...v);
    } else if (typeof v === "object" && v !== null) {
      const entries = Object.entries(v);
      if (entries.length > limits.decoderEntries) return `more than ${limits.decoderEntries} entries`;
      for (const [k, item] of entries) {
        if (longerThan(k, limits.decoderStrBytes)) return tooLong;
        stack.push(item);
      }
    }
  }
  return null;
}

export function createJsonCodec(limits: CodecLimits): Codec {
  const decodeText = (data: WireData): string | null => (typeof data === "string" ? data : null);
  return {
    protocol: SUBPROTOCOL_JSON,
    binary: false,
    encode: (frame) => JSON.stringify(frame),
    encodeBatch: (frames) => JSON.stringify(frames),
    decodeOne(data) {
      const text = decodeText(data);
      if (text === null) return bad("binary frame on a text (JSON) socket");
      const size = byteLength(text, limits.frameBytes);
      if (size > limits.frameBytes) return tooLarge(size, limits.frameBytes);
      if (text.length === 0) return bad("empty frame");
      if (!jsonDepth(text, limits.decoderDepth)) return bad(`nested deeper than ${limits.decoderDepth}`);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return bad("malformed JSON");
      }
      const problem = jsonWithinLimits(value, limits);
      return problem === null ? { ok: true, value } : bad(problem);
    },
    decodeAll(data) {
      const text = decodeText(data);
      if (text === null) throw new DecodeFailure("binary frame on a text (JSON) socket");
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new DecodeFailure("malformed JSON");
      }
      return Array.isArray(value) ? value : [value];
    },
  };
}

/**
 * Picks the codec for the subprotocols a client offered, the smallest first: msgpack with short
 * names, then msgpack, then JSON; msgpack when it offered none of them.
 */
export function chooseSubprotocol(offered: string | null | undefined): Subprotocol {
  const list = (offered ?? "").split(",").map((s) => s.trim());
  if (list.includes(SUBPROTOCOL_MSGPACK_SHORT)) return SUBPROTOCOL_MSGPACK_SHORT;
  if (list.includes(SUBPROTOCOL_MSGPACK)) return SUBPROTOCOL_MSGPACK;
  if (list.includes(SUBPROTOCOL_JSON)) return SUBPROTOCOL_JSON;
  return SUBPROTOCOL_MSGPACK;
}

export function createCodec(protocol: Subprotocol, limits: CodecLimits): Codec {
  if (protocol === SUBPROTOCOL_JSON) return createJsonCodec(limits);
  return createMsgpackCodec(limits, protocol === SUBPROTOCOL_MSGPACK_SHORT);
}
