/**
 * Guards: turn a decoded value into a typed client frame, or say precisely why not.
 * They never cast: each field is read, checked and copied into a fresh object, so unknown
 * fields (and keys such as `__proto__`) never travel further than this file.
 */
import type { ClientFrame, ClientFrameType, SendFrame } from "./frames";
import { CLIENT_ID_MAX, EMOJI_MAX, FILE_ID_MAX, FILES_PER_MESSAGE, HISTORY_MAX, type ErrorCode, type Limits } from "./limits";

export type Parsed<T> =
  | { ok: true; frame: T }
  | { ok: false; code: ErrorCode; message: string; id?: string };

class Invalid extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

type Fields = Record<string, unknown>;

export function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

// Control characters other than tab and line breaks have no place in text people read.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// A lone surrogate is not text: storage and UTF-8 encoders would silently turn it into U+FFFD,
// so what was acknowledged would differ from what is stored. (msgpack's lenient UTF-8 decoder and
// JSON's \ud800 escapes can both produce one.)
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function printable(s: string): boolean {
  return !CONTROL.test(s) && !LONE_SURROGATE.test(s);
}

function int(f: Fields, key: string, min: number): number {
  const v = f[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new Invalid("invalid", `${key} must be an integer of at least ${min}`);
  }
  return v === 0 ? 0 : v; // -0 (a float in msgpack, "-0" in JSON) becomes a plain 0
}

function optInt(f: Fields, key: string, min: number): number | undefined {
  return f[key] === undefined || f[key] === null ? undefined : int(f, key, min);
}

function bool(f: Fields, key: string): boolean {
  const v = f[key];
  if (typeof v !== "boolean") throw new Invalid("invalid", `${key} must be a boolean`);
  return v;
}

function str(f: Fields, key: string, max: number, tooLong: ErrorCode = "invalid"): string {
  const v = f[key];
  if (typeof v !== "string") throw new Invalid("invalid", `${key} must be a string`);
  if (v.length > max) throw new Invalid(tooLong, `${key} is longer than ${max} characters`);
  return v;
}

/** A client message id: 1-64 printable characters. */
function usableId(id: unknown): id is string {
  return typeof id === "string" && id.length > 0 && id.length <= CLIENT_ID_MAX && printable(id);
}

function clientId(f: Fields): string {
  const id = str(f, "id", CLIENT_ID_MAX);
  if (!usableId(id)) throw new Invalid("invalid", "id must be 1-64 printable characters");
  return id;
}

function body(f: Fields, limits: Pick<Limits, "bodyChars">): string {
  const b = str(f, "body", limits.bodyChars, "too_large");
  if (b.trim().length === 0) throw new Invalid("invalid", "body must not be empty");
  if (!printable(b)) throw new Invalid("invalid", "body must not contain control characters or lone surrogates");
  return b;
}

/** The file ids of a `send` (v1.1): absent, or 1-10 distinct ids of 1-64 of `A-Za-z0-9_-`. */
function fileIds(f: Fields): string[] | undefined {
  const v = f.files;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.length > FILES_PER_MESSAGE) {
    throw new Invalid("invalid", `files must be a list of 1-${FILES_PER_MESSAGE} file ids`);
  }
  const out: string[] = [];
  for (const id of v) {
    if (typeof id !== "string" || id.length === 0 || id.length > FILE_ID_MAX || !/^[A-Za-z0-9_-]+$/.test(id)) {
      throw new Invalid("invalid", "files must hold file ids");
    }
    if (out.includes(id)) throw new Invalid("invalid", "files must not name a file twice");
    out.push(id);
  }
  return out;
}

/** A `send`'s body: as `body()`, but with files it may be empty (or left out): then "". */
function sendBody(f: Fields, limits: Pick<Limits, "bodyChars">, withFiles: boolean): string {
  if (!withFiles) return body(f, limits);
  if (f.body === undefined || f.body === null) return "";
  const b = str(f, "body", limits.bodyChars, "too_large");
  if (!printable(b)) throw new Invalid("invalid", "body must not contain control characters or lone surrogates");
  return b.trim().length === 0 ? "" : b;
}

function emoji(f: Fields): string {
  const e = str(f, "emoji", EMOJI_MAX);
  if (e.trim().length === 0 || !printable(e) || /\s/.test(e)) {
    throw new Invalid("invalid", "emoji must be 1-16 characters without spaces");
  }
  return e;
}

const clientParsers: { [K in ClientFrameType]: (f: Fields, limits: Limits) => Extract<ClientFrame, { t: K }> } = {
  send: (f, l) => {
    const replyTo = optInt(f, "replyTo", 1);
    const files = fileIds(f);
    const frame: SendFrame = { t: "send", id: clientId(f), body: sendBody(f, l, files !== undefined) };
    if (replyTo !== undefined) frame.replyTo = replyTo;
    if (files !== undefined) frame.files = files;
    return frame;
  },
  sync: (f) => ({ t: "sync", since: int(f, "since", 0) }),
  read: (f) => ({ t: "read", seq: int(f, "seq", 0) }),
  typing: () => ({ t: "typing" }),
  history: (f) => {
    const before = optInt(f, "before", 1);
    const limit = optInt(f, "limit", 1);
    return {
      t: "history",
      ...(before === undefined ? {} : { before }),
      limit: Math.min(limit ?? 50, HISTORY_MAX),
    };
  },
  edit: (f, l) => ({ t: "edit", target: int(f, "target", 1), body: body(f, l) }),
  delete: (f) => ({ t: "delete", target: int(f, "target", 1) }),
  react: (f) => ({ t: "react", target: int(f, "target", 1), emoji: emoji(f), on: bool(f, "on") }),
};

function isClientType(t: string): t is ClientFrameType {
  return Object.hasOwn(clientParsers, t);
}

/** Checks a decoded value against the client-to-server frames of the conversation socket. */
export function parseClientFrame(value: unknown, limits: Limits): Parsed<ClientFrame> {
  if (!isRecord(value)) return { ok: false, code: "bad_frame", message: "a frame must be a map" };
  const t = value.t;
  if (typeof t !== "string") return { ok: false, code: "bad_frame", message: "a frame needs a string field t" };
  // Name the client's frame in the error when it carries a usable id, so it can match it up.
  // The same rule as for `send`: an id the server would refuse is not echoed back either.
  const id = usableId(value.id) ? value.id : undefined;
  if (!isClientType(t)) {
    return { ok: false, code: "unknown_type", message: `unknown frame type ${JSON.stringify(t.slice(0, 32))}`, ...(id ? { id } : {}) };
  }
  try {
    return { ok: true, frame: clientParsers[t](value, limits) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, code: err.code, message: `${t}: ${err.message}`, ...(id ? { id } : {}) };
    throw err;
  }
}
