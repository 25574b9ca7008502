/**
 * The short-key table of `chat.v1.msgpack.short`: the same frames as `chat.v1.msgpack`, with every
 * field name of the contract and every frame type written as one character. A `msg` frame's names
 * are a fifth of its bytes; shortening them is the larger part of what a binary codec can save over
 * JSON for chat-sized messages. The table is part of the wire contract: entries may be added, never
 * changed or removed.
 *
 * No short name equals a field name of the contract, so a frame can be read whether or not its
 * sender shortened a field; a name outside the table passes through unchanged (and is then ignored
 * or refused by the guards, as on the other codecs).
 */

/** Field name → short name. `t` is already one character and stays as it is. */
export const SHORT_KEYS: Readonly<Record<string, string>> = Object.freeze({
  seq: "s", id: "i", from: "f", body: "b", ts: "w", replyTo: "r", edited: "e", deleted: "d",
  reactions: "x", emoji: "j", users: "U", kind: "k", title: "h", members: "M", peer: "p",
  private: "v", lastSeq: "L", readSeq: "R", unread: "n", last: "l", username: "u", name: "N",
  online: "o", conv: "c", me: "m", target: "g", on: "O", joined: "J", more: "y", reset: "z",
  dup: "D", code: "C", message: "E", messages: "H", since: "S", before: "B", limit: "T",
  conversations: "V", preview: "P", conversation: "A",
  // v1.1: roles and moderation.
  role: "G", topic: "q", by: "Q",
  // v1.1: files (a message's `files`, each `{id, name, type, size, width?, height?}`).
  files: "F", type: "K", size: "Z", width: "W", height: "I",
  // v1.1: unread mentions (issue 14).
  mentions: "@",
  // v1.1: when someone offline was last online.
  lastSeen: "a",
  // v1.1: push notifications (a conversation muted: `Summary.muted`, the `muted` frame).
  muted: "X",
});

/** Frame type (the value of `t`) → short type. */
export const SHORT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  welcome: "W", msg: "m", edit: "e", delete: "d", react: "x", member: "u", synced: "Y", ack: "a",
  receipt: "c", typing: "k", presence: "p", history: "h", error: "E", inbox: "i", activity: "v",
  read: "r", joined: "j", send: "s", sync: "y", left: "l",
  // v1.1: roles and moderation.
  room: "o", role: "g", profile: "f",
  // v1.1: push notifications.
  muted: "M",
});

function invert(table: Readonly<Record<string, string>>): ReadonlyMap<string, string> {
  return new Map(Object.entries(table).map(([long, short]) => [short, long]));
}

const keyToShort: ReadonlyMap<string, string> = new Map(Object.entries(SHORT_KEYS));
const typeToShort: ReadonlyMap<string, string> = new Map(Object.entries(SHORT_TYPES));
const keyToLong = invert(SHORT_KEYS);
const typeToLong = invert(SHORT_TYPES);

export class FieldNameError extends Error {
  override readonly name = "FieldNameError";
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function rename(
  value: unknown,
  keys: ReadonlyMap<string, string>,
  types: ReadonlyMap<string, string>,
): unknown {
  if (Array.isArray(value)) return value.map((v) => rename(v, keys, types));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const name = keys.get(k) ?? k;
    // Two names for one field ("s" and "seq") would let one frame say two things.
    if (Object.hasOwn(out, name)) throw new FieldNameError(`field "${name}" given twice`);
    if (name === "__proto__") throw new FieldNameError("field __proto__ is not allowed");
    out[name] = k === "t" && typeof v === "string" ? (types.get(v) ?? v) : rename(v, keys, types);
  }
  return out;
}

/** A frame (or any value of one) with the contract's names shortened, for encoding. */
export function shortenFrame(frame: unknown): unknown {
  return rename(frame, keyToShort, typeToShort);
}

/** A decoded short-key frame with the contract's names restored. Throws FieldNameError. */
export function expandFrame(frame: unknown): unknown {
  return rename(frame, keyToLong, typeToLong);
}
