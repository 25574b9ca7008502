/**
 * Frame generators for the fuzz tests, and an oracle: what PROTOCOL.md section 3.1 (with the
 * documented rules of protocol/guards.ts: no control characters or lone surrogates in text) says
 * a client frame is, written apart from the guards so that the two can be compared.
 */
import fc from "fast-check";
import { encode } from "@msgpack/msgpack";
import {
  CLIENT_ID_MAX,
  DEFAULT_LIMITS,
  EMOJI_MAX,
  HISTORY_MAX,
  type ClientFrame,
  type Limits,
} from "../../protocol";

export const LIMITS: Limits = { ...DEFAULT_LIMITS };
export const CLIENT_TYPES = ["send", "sync", "read", "typing", "history", "edit", "delete", "react"] as const;

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// Unpaired UTF-16 halves are not text (UTF-8 has no way to carry them): never valid in a field.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A frame as it goes on the wire, and on which socket (msgpack takes binary, JSON takes text). */
export interface WireFrame {
  data: string | Uint8Array;
}

/**
 * A failure report made well-formed: a counterexample may hold lone surrogates, and the pool
 * carries reports to vitest as text, which fails on them (WS_ERR_INVALID_UTF8) and hides the
 * failure.
 */
export function wellFormed(text: string): string {
  return text.replace(new RegExp(LONE_SURROGATE.source, "g"), "\uFFFD");
}

// ---- the oracle --------------------------------------------------------------------------------

type Fields = Record<string, unknown>;

function own(f: Fields, key: string): unknown {
  return Object.hasOwn(f, key) ? f[key] : undefined;
}

const isInt = (v: unknown, min: number): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= min;
const absent = (v: unknown) => v === undefined || v === null;
const text = (v: unknown, max: number): v is string =>
  typeof v === "string" && v.length <= max && !CONTROL.test(v) && !LONE_SURROGATE.test(v);
const goodBody = (v: unknown, l: Limits): v is string => text(v, l.bodyChars) && v.trim().length > 0;
const goodId = (v: unknown): v is string => text(v, CLIENT_ID_MAX) && v.length > 0;
const goodEmoji = (v: unknown): v is string => text(v, EMOJI_MAX) && v.trim().length > 0 && !/\s/.test(v);

/** The frame a decoded value stands for, per the contract, or null when it is not a valid frame. */
export function specFrame(value: unknown, l: Limits = LIMITS): ClientFrame | null {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) return null;
  const f = value as Fields;
  const t = own(f, "t");
  switch (t) {
    case "send": {
      const { id, body, replyTo } = { id: own(f, "id"), body: own(f, "body"), replyTo: own(f, "replyTo") };
      if (!goodId(id) || !goodBody(body, l) || !(absent(replyTo) || isInt(replyTo, 1))) return null;
      return isInt(replyTo, 1) ? { t, id, body, replyTo } : { t, id, body };
    }
    case "sync": {
      const since = own(f, "since");
      return isInt(since, 0) ? { t, since } : null;
    }
    case "read": {
      const seq = own(f, "seq");
      return isInt(seq, 0) ? { t, seq } : null;
    }
    case "typing":
      return { t };
    case "history": {
      const before = own(f, "before");
      const limit = own(f, "limit");
      if (!(absent(before) || isInt(before, 1)) || !(absent(limit) || isInt(limit, 1))) return null;
      const n = isInt(limit, 1) ? Math.min(limit, HISTORY_MAX) : 50;
      return isInt(before, 1) ? { t, before, limit: n } : { t, limit: n };
    }
    case "edit": {
      const target = own(f, "target");
      const body = own(f, "body");
      return isInt(target, 1) && goodBody(body, l) ? { t, target, body } : null;
    }
    case "delete": {
      const target = own(f, "target");
      return isInt(target, 1) ? { t, target } : null;
    }
    case "react": {
      const target = own(f, "target");
      const emoji = own(f, "emoji");
      const on = own(f, "on");
      return isInt(target, 1) && goodEmoji(emoji) && typeof on === "boolean" ? { t, target, emoji, on } : null;
    }
    default:
      return null;
  }
}

/** Depth, entry counts and string sizes of a decoded value, against the decoder limits. */
export function withinDecoderLimits(value: unknown, l: Limits = LIMITS, depth = 1): boolean {
  if (typeof value === "string") return new TextEncoder().encode(value).byteLength <= l.decoderStrBytes;
  if (value instanceof Uint8Array) return value.byteLength <= l.decoderStrBytes;
  if (typeof value !== "object" || value === null) return true;
  if (depth > l.decoderDepth) return false;
  const children = Array.isArray(value) ? value : Object.values(value);
  if (children.length > l.decoderEntries) return false;
  return children.every((c) => withinDecoderLimits(c, l, depth + 1));
}

// ---- generators --------------------------------------------------------------------------------

const printable = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 40 })
  .filter((s) => !CONTROL.test(s) && !LONE_SURROGATE.test(s) && s.trim().length > 0);
const anyText = fc.string({ unit: "binary", maxLength: 60 });
const seq = fc.integer({ min: 1, max: 1_000 });

/** Frames the contract accepts, of every client type. */
export const validFrame: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc.record({ t: fc.constant("send" as const), id: printable.filter((s) => s.length <= CLIENT_ID_MAX), body: printable }, { requiredKeys: ["t", "id", "body"] }),
  fc.record({ t: fc.constant("send" as const), id: printable.filter((s) => s.length <= CLIENT_ID_MAX), body: printable, replyTo: seq }),
  fc.record({ t: fc.constant("sync" as const), since: fc.nat() }),
  fc.record({ t: fc.constant("read" as const), seq: fc.nat() }),
  fc.constant({ t: "typing" as const }),
  fc.record({ t: fc.constant("history" as const), before: seq, limit: fc.integer({ min: 1, max: 200 }) }, { requiredKeys: ["t"] }),
  fc.record({ t: fc.constant("edit" as const), target: seq, body: printable }),
  fc.record({ t: fc.constant("delete" as const), target: seq }),
  fc.record({ t: fc.constant("react" as const), target: seq, emoji: fc.constantFrom("👍", "🎉", "ok", "👨‍👩‍👧", "+1"), on: fc.boolean() }),
);

const KEYS = ["t", "id", "body", "replyTo", "since", "seq", "before", "limit", "target", "emoji", "on", "from", "__proto__", "constructor", "toString", "x"];
const TYPES = [...CLIENT_TYPES, "welcome", "msg", "ack", "", "SEND", "send ", "hasOwnProperty", "__proto__"];

/** Any value a hostile client might put in a field. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  anyText,
  printable,
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1, 2 ** 53, -(2 ** 53), 1.5, Number.NaN, Number.POSITIVE_INFINITY, null, true, false, "", " ", "\u0000", "x".repeat(4001), "\u00a0"),
);

/** Maps shaped like frames: a plausible or hostile `t` and a few plausible or hostile fields. */
const frameLike: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(fc.constantFrom(...TYPES), fc.dictionary(fc.constantFrom(...KEYS), fieldValue, { maxKeys: 5 }))
  .map(([t, fields]) => ({ t, ...fields }));

function msgpack(value: unknown): Uint8Array | null {
  try {
    return encode(value, { ignoreUndefined: true });
  } catch {
    return null;
  }
}

function json(value: unknown): string | null {
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return null;
  }
}

/** Both encodings of a value, or raw data as it is: each goes to both codecs. */
function wire(value: unknown): WireFrame[] {
  const out: WireFrame[] = [];
  const m = msgpack(value);
  if (m) out.push({ data: m });
  const j = json(value);
  if (j !== null) out.push({ data: j });
  return out;
}

/** Random frames: bytes, text, arbitrary values and frame-shaped maps, encoded both ways. */
export const randomFrame: fc.Arbitrary<WireFrame[]> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((data) => [{ data }]),
  fc.string({ unit: "binary", maxLength: 300 }).map((data) => [{ data }]),
  fc.anything({ maxDepth: 4 }).map(wire),
  frameLike.map(wire),
  frameLike.map(wire),
);

// ---- mutations of valid frames -----------------------------------------------------------------

type Op = "flip" | "set" | "insert" | "delete" | "truncate" | "append" | "twice" | "dropField" | "setField" | "addField" | "retype" | "nest" | "protoKey" | "arrayWrap";
const OPS: Op[] = ["flip", "set", "insert", "delete", "truncate", "append", "twice", "dropField", "setField", "addField", "retype", "nest", "protoKey", "arrayWrap"];

function mutateBytes(bytes: Uint8Array, op: Op, at: number, extra: Uint8Array): Uint8Array {
  const i = bytes.length === 0 ? 0 : at % bytes.length;
  const copy = bytes.slice();
  switch (op) {
    case "flip":
      if (copy.length > 0) copy[i] = copy[i]! ^ (1 << (at % 8));
      return copy;
    case "set":
      if (copy.length > 0) copy[i] = extra[0] ?? 0xc1;
      return copy;
    case "insert":
      return new Uint8Array([...bytes.subarray(0, i), ...extra, ...bytes.subarray(i)]);
    case "delete":
      return new Uint8Array([...bytes.subarray(0, i), ...bytes.subarray(i + 1 + (at % 4))]);
    case "truncate":
      return bytes.subarray(0, i);
    case "append":
      return new Uint8Array([...bytes, ...extra]);
    default:
      return new Uint8Array([...bytes, ...bytes]);
  }
}

function nested(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let d = 0; d < depth; d++) v = d % 2 === 0 ? [v] : { a: v };
  return v;
}

function mutateValue(frame: Record<string, unknown>, op: Op, at: number, value: unknown): unknown {
  const keys = Object.keys(frame);
  const key = keys[at % keys.length]!;
  switch (op) {
    case "dropField": {
      const copy = { ...frame };
      delete copy[key];
      return copy;
    }
    case "setField":
      return { ...frame, [key]: value };
    case "addField":
      return { ...frame, [KEYS[at % KEYS.length]!]: value };
    case "retype":
      return { ...frame, t: TYPES[at % TYPES.length] };
    case "nest":
      return { ...frame, [key]: nested(4 + (at % 10), value) };
    case "protoKey": {
      // An own `__proto__` key, as JSON.parse makes it: it must not smuggle fields in.
      const copy: Record<string, unknown> = { t: frame.t };
      Object.defineProperty(copy, "__proto__", { value: { ...frame }, enumerable: true, configurable: true, writable: true });
      return copy;
    }
    default:
      return [frame];
  }
}

/** Valid frames, encoded both ways, then mutated at the byte level or in their structure. */
export const mutatedFrame: fc.Arbitrary<WireFrame[]> = fc
  .tuple(validFrame, fc.constantFrom(...OPS), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 12 }), fieldValue)
  .map(([frame, op, at, extra, value]) => {
    const record: Record<string, unknown> = { ...frame };
    if (["flip", "set", "insert", "delete", "truncate", "append", "twice"].includes(op)) {
      const out: WireFrame[] = [];
      const m = msgpack(record);
      if (m) out.push({ data: mutateBytes(m, op, at, extra) });
      const j = json(record);
      if (j !== null) {
        const chars = new TextEncoder().encode(j);
        out.push({ data: new TextDecoder().decode(mutateBytes(chars, op, at, extra)) });
      }
      return out;
    }
    return wire(mutateValue(record, op, at, value));
  });

// ---- valid frames with one field at a boundary -------------------------------------------------

/** Values at the edges of the field rules: empty, blank, control characters, lone surrogates, too long, wrong types. */
const BOUNDARY: unknown[] = [
  "", " ", "\u00a0", "\t", "a\u0000b", "ok\u0007", "\u001f", "x\u007f", "a\ud800", "\udc00b", "👍\u200b",
  "x".repeat(CLIENT_ID_MAX + 1), "x".repeat(LIMITS.bodyChars), "x".repeat(LIMITS.bodyChars + 1), "y".repeat(EMOJI_MAX + 1),
  0, -1, 1, 1.5, 2 ** 53, null, true, "1", [], {},
];

/**
 * Valid frames with exactly one field (other than `t`) replaced by a boundary value: the cases a
 * guard that lets one rule slip would get wrong, which random frames reach only by chance.
 */
export const boundaryFrame: fc.Arbitrary<WireFrame[]> = fc
  .tuple(validFrame, fc.nat(), fc.constantFrom(...BOUNDARY))
  .map(([frame, at, value]) => {
    const keys = Object.keys(frame).filter((k) => k !== "t");
    return wire(keys.length === 0 ? frame : { ...frame, [keys[at % keys.length]!]: value });
  });
