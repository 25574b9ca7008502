/**
 * Helpers for tests that build wire data by hand: raw msgpack bytes, and the server's path for a
 * client message (decodeOne, then parseClientFrame) reduced to one outcome code.
 */
import { Encoder } from "@msgpack/msgpack";
import { concatBytes, DEFAULT_LIMITS, parseClientFrame, type ClientFrame, type Codec, type ErrorCode, type WireData } from "../../protocol";

const encoder = new Encoder();

/** Bytes from hex, spaces allowed: bytes("83 a1 74"). */
export function bytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex ${hex}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

/** The msgpack form of one value, as the real encoder writes it. */
export function mp(value: unknown): Uint8Array {
  return encoder.encode(value);
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** A msgpack map written entry by entry, so a value can be raw bytes the encoder would not write. */
export function rawMap(entries: [string, Uint8Array][]): Uint8Array {
  if (entries.length > 15) throw new Error("fixmap only");
  return cat(Uint8Array.of(0x80 | entries.length), ...entries.flatMap(([k, v]) => [mp(k), v]));
}

export type Outcome = { code: ErrorCode | "ok"; id?: string; frame?: ClientFrame };

/** What the conversation object makes of one client message. */
export function receive(codec: Codec, data: WireData): Outcome {
  const decoded = codec.decodeOne(data);
  if (!decoded.ok) return { code: decoded.code };
  const parsed = parseClientFrame(decoded.value, DEFAULT_LIMITS);
  if (parsed.ok) return { code: "ok", frame: parsed.frame };
  return parsed.id === undefined ? { code: parsed.code } : { code: parsed.code, id: parsed.id };
}

/** Nested arrays: nest(3, x) is [[[x]]]. */
export function nest(levels: number, inner: unknown = 0): unknown {
  let v = inner;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}
