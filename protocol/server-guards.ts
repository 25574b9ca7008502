/**
 * Guards for what a server sends: turn a decoded value into a typed server frame, or say why not.
 * Used by the web client and the load generator on every frame they receive, so they are written
 * for the common case: no closures or intermediate objects per call, one fresh object per frame
 * (and per nested Message, Summary or Member), built from the known fields only. Unknown fields are
 * dropped (the contract lets the server add them); an absent optional field may also come as null.
 * Like guards.ts they never cast, so nothing unchecked reaches the caller.
 */
import type {
  AckFrame,
  ActivityFrame,
  InboxReadFrame,
  DeleteFrame,
  MemberFrame,
  ConversationKind,
  ErrorFrame,
  FileRef,
  InboxServerFrame,
  Member,
  Message,
  MsgFrame,
  PresenceFrame,
  ProfileFrame,
  Reaction,
  Role,
  ServerFrame,
  Summary,
  SyncedFrame,
} from "./frames";
import { isRecord, type Parsed } from "./guards";
import { ERROR_CODES, type ErrorCode } from "./limits";

type Fields = Record<string, unknown>;

class Invalid extends Error {}

function fail(key: string, what: string): never {
  throw new Invalid(`${key} must be ${what}`);
}

function int(f: Fields, key: string, min: number): number {
  const v = f[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) fail(key, `an integer of at least ${min}`);
  return v;
}

function optInt(f: Fields, key: string, min: number): number | undefined {
  const v = f[key];
  return v === undefined || v === null ? undefined : int(f, key, min);
}

function str(f: Fields, key: string): string {
  const v = f[key];
  if (typeof v !== "string") fail(key, "a string");
  return v;
}

function optStr(f: Fields, key: string): string | undefined {
  const v = f[key];
  return v === undefined || v === null ? undefined : str(f, key);
}

function bool(f: Fields, key: string): boolean {
  const v = f[key];
  if (typeof v !== "boolean") fail(key, "a boolean");
  return v;
}

function optBool(f: Fields, key: string): boolean | undefined {
  const v = f[key];
  return v === undefined || v === null ? undefined : bool(f, key);
}

function record(f: Fields, key: string): Fields {
  const v = f[key];
  if (!isRecord(v)) fail(key, "a map");
  return v;
}

function list(f: Fields, key: string): unknown[] {
  const v = f[key];
  if (!Array.isArray(v)) fail(key, "an array");
  return v;
}

function strings(f: Fields, key: string): string[] {
  const items = list(f, key);
  const out: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    if (typeof v !== "string") fail(`${key}[${i}]`, "a string");
    out.push(v);
  }
  return out;
}

function kind(f: Fields): ConversationKind {
  const v = f.kind;
  if (v !== "dm" && v !== "room") fail("kind", '"dm" or "room"');
  return v;
}

function role(f: Fields, key = "role"): Role {
  const v = f[key];
  if (v !== "owner" && v !== "admin" && v !== "member") fail(key, '"owner", "admin" or "member"');
  return v;
}

function optRole(f: Fields): Role | undefined {
  const v = f.role;
  return v === undefined || v === null ? undefined : role(f);
}

function isErrorCode(v: unknown): v is ErrorCode {
  for (const code of ERROR_CODES) if (v === code) return true;
  return false;
}

function reactions(f: Fields): Reaction[] | undefined {
  const v = f.reactions;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail("reactions", "an array");
  const out: Reaction[] = [];
  for (let i = 0; i < v.length; i++) {
    const r = v[i];
    if (!isRecord(r)) fail(`reactions[${i}]`, "a map");
    out.push({ emoji: str(r, "emoji"), users: strings(r, "users") });
  }
  return out;
}

/** A message's files (v1.1): `{id, name, type, size, width?, height?}` each. */
function fileRefs(f: Fields): FileRef[] | undefined {
  const v = f.files;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail("files", "an array");
  const out: FileRef[] = [];
  for (let i = 0; i < v.length; i++) {
    const r = v[i];
    if (!isRecord(r)) fail(`files[${i}]`, "a map");
    const file: FileRef = { id: str(r, "id"), name: str(r, "name"), type: str(r, "type"), size: int(r, "size", 0) };
    const width = optInt(r, "width", 1);
    if (width !== undefined) file.width = width;
    const height = optInt(r, "height", 1);
    if (height !== undefined) file.height = height;
    out.push(file);
  }
  return out;
}

/** Copies the optional fields of a Message onto `out` (only those present, so no undefined keys). */
function messageInto(f: Fields, out: Message): void {
  const replyTo = optInt(f, "replyTo", 1);
  if (replyTo !== undefined) out.replyTo = replyTo;
  const edited = optBool(f, "edited");
  if (edited !== undefined) out.edited = edited;
  const deleted = optBool(f, "deleted");
  if (deleted !== undefined) out.deleted = deleted;
  const r = reactions(f);
  if (r !== undefined) out.reactions = r;
  const files = fileRefs(f);
  if (files !== undefined) out.files = files;
}

function message(f: Fields): Message {
  const out: Message = { seq: int(f, "seq", 1), id: str(f, "id"), from: str(f, "from"), body: str(f, "body"), ts: int(f, "ts", 0) };
  messageInto(f, out);
  return out;
}

function messages(f: Fields, key: string): Message[] {
  const items = list(f, key);
  const out: Message[] = [];
  for (let i = 0; i < items.length; i++) {
    const m = items[i];
    if (!isRecord(m)) fail(`${key}[${i}]`, "a map");
    out.push(message(m));
  }
  return out;
}

/** `mentions` (v1.1) when the server sent it: older servers do not. */
function withMentions<T extends { mentions?: number }>(f: Fields, out: T): T {
  const n = optInt(f, "mentions", 0);
  if (n !== undefined) out.mentions = n;
  return out;
}

function summary(f: Fields): Summary {
  const out = withMentions<Summary>(f, {
    id: str(f, "id"),
    kind: kind(f),
    title: str(f, "title"),
    lastSeq: int(f, "lastSeq", 0),
    readSeq: int(f, "readSeq", 0),
    unread: int(f, "unread", 0),
  });
  const members = optInt(f, "members", 0);
  if (members !== undefined) out.members = members;
  const peer = optStr(f, "peer");
  if (peer !== undefined) out.peer = peer;
  const priv = optBool(f, "private");
  if (priv !== undefined) out.private = priv;
  const r = optRole(f);
  if (r !== undefined) out.role = r;
  const topic = optStr(f, "topic");
  if (topic !== undefined) out.topic = topic;
  if (optBool(f, "muted") === true) out.muted = true;
  const last = f.last;
  if (last !== undefined && last !== null) {
    if (!isRecord(last)) fail("last", "a map");
    out.last = message(last);
  }
  return out;
}

function summaries(f: Fields, key: string): Summary[] {
  const items = list(f, key);
  const out: Summary[] = [];
  for (let i = 0; i < items.length; i++) {
    const s = items[i];
    if (!isRecord(s)) fail(`${key}[${i}]`, "a map");
    out.push(summary(s));
  }
  return out;
}

function members(f: Fields): Member[] {
  const items = list(f, "members");
  const out: Member[] = [];
  for (let i = 0; i < items.length; i++) {
    const m = items[i];
    if (!isRecord(m)) fail(`members[${i}]`, "a map");
    const member: Member = { username: str(m, "username"), name: str(m, "name"), online: bool(m, "online"), readSeq: int(m, "readSeq", 0) };
    const r = optRole(m);
    if (r !== undefined) member.role = r;
    if (optBool(m, "deleted") === true) member.deleted = true;
    out.push(withLastSeen(m, member));
  }
  return out;
}

function presence(f: Fields): PresenceFrame {
  return withLastSeen<PresenceFrame>(f, { t: "presence", username: str(f, "username"), online: bool(f, "online") });
}

/** `lastSeen` (v1.1) when the server sent it. */
function withLastSeen<T extends { lastSeen?: number }>(f: Fields, out: T): T {
  const at = optInt(f, "lastSeen", 0);
  if (at !== undefined) out.lastSeen = at;
  return out;
}

function error(f: Fields): ErrorFrame {
  const code = f.code;
  if (!isErrorCode(code)) fail("code", "a known error code");
  const frame: ErrorFrame = { t: "error", code, message: str(f, "message") };
  const id = optStr(f, "id");
  if (id !== undefined) frame.id = id;
  return frame;
}

/** The frames of the conversation socket; null for a type it does not have. */
function conversationFrame(t: string, f: Fields): ServerFrame | null {
  switch (t) {
    case "welcome":
      return { t, conv: summary(record(f, "conv")), me: str(f, "me"), members: members(f) };
    case "msg": {
      const frame: MsgFrame = { t, seq: int(f, "seq", 1), id: str(f, "id"), from: str(f, "from"), body: str(f, "body"), ts: int(f, "ts", 0) };
      messageInto(f, frame);
      return frame;
    }
    case "edit":
      return { t, seq: int(f, "seq", 1), target: int(f, "target", 1), body: str(f, "body"), ts: int(f, "ts", 0) };
    case "delete": {
      const frame: DeleteFrame = { t, seq: int(f, "seq", 1), target: int(f, "target", 1), ts: int(f, "ts", 0) };
      const by = optStr(f, "by");
      if (by !== undefined) frame.by = by;
      return frame;
    }
    case "react":
      return {
        t,
        seq: int(f, "seq", 1),
        target: int(f, "target", 1),
        from: str(f, "from"),
        emoji: str(f, "emoji"),
        on: bool(f, "on"),
        ts: int(f, "ts", 0),
      };
    case "member": {
      const frame: MemberFrame = { t, seq: int(f, "seq", 1), username: str(f, "username"), joined: bool(f, "joined"), ts: int(f, "ts", 0) };
      const name = optStr(f, "name");
      if (name !== undefined) frame.name = name;
      const by = optStr(f, "by");
      if (by !== undefined) frame.by = by;
      return frame;
    }
    case "room":
      return { t, seq: int(f, "seq", 1), title: str(f, "title"), topic: str(f, "topic"), private: bool(f, "private"), by: str(f, "by"), ts: int(f, "ts", 0) };
    case "role":
      return { t, seq: int(f, "seq", 1), username: str(f, "username"), role: role(f), by: str(f, "by"), ts: int(f, "ts", 0) };
    case "synced": {
      const frame: SyncedFrame = { t, lastSeq: int(f, "lastSeq", 0), more: bool(f, "more") };
      const reset = optBool(f, "reset");
      if (reset !== undefined) frame.reset = reset;
      return frame;
    }
    case "ack": {
      const frame: AckFrame = { t, id: str(f, "id"), seq: int(f, "seq", 1), ts: int(f, "ts", 0) };
      const dup = optBool(f, "dup");
      if (dup !== undefined) frame.dup = dup;
      return frame;
    }
    case "receipt":
      return { t, username: str(f, "username"), seq: int(f, "seq", 0) };
    case "typing":
      return { t, username: str(f, "username") };
    case "presence":
      return presence(f);
    case "history":
      return { t, messages: messages(f, "messages"), more: bool(f, "more") };
    case "profile": {
      const frame: ProfileFrame = { t, username: str(f, "username"), name: str(f, "name") };
      if (optBool(f, "deleted") === true) frame.deleted = true;
      return frame;
    }
    case "error":
      return error(f);
    default:
      return null;
  }
}

/** The frames of the inbox socket; null for a type it does not have. */
function inboxFrame(t: string, f: Fields): InboxServerFrame | null {
  switch (t) {
    case "inbox":
      return { t, conversations: summaries(f, "conversations"), online: strings(f, "online") };
    case "activity":
      return withMentions<ActivityFrame>(f, {
        t,
        conv: str(f, "conv"),
        seq: int(f, "seq", 1),
        from: str(f, "from"),
        preview: str(f, "preview"),
        ts: int(f, "ts", 0),
        unread: int(f, "unread", 0),
      });
    case "read":
      return withMentions<InboxReadFrame>(f, { t, conv: str(f, "conv"), seq: int(f, "seq", 0), unread: int(f, "unread", 0) });
    case "presence":
      return presence(f);
    case "joined":
      return { t, conversation: summary(record(f, "conversation")) };
    case "left":
      return { t, conv: str(f, "conv") };
    case "muted":
      return { t, conv: str(f, "conv"), muted: bool(f, "muted") };
    case "error":
      return error(f);
    default:
      return null;
  }
}

function parseWith<T>(value: unknown, read: (t: string, f: Fields) => T | null): Parsed<T> {
  if (!isRecord(value)) return { ok: false, code: "bad_frame", message: "a frame must be a map" };
  const t = value.t;
  if (typeof t !== "string") return { ok: false, code: "bad_frame", message: "a frame needs a string field t" };
  try {
    const frame = read(t, value);
    if (frame === null) return { ok: false, code: "unknown_type", message: `unknown frame type ${JSON.stringify(t.slice(0, 32))}` };
    return { ok: true, frame };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, code: "invalid", message: `${t}: ${err.message}` };
    throw err;
  }
}

/** Checks a decoded value against the server-to-client frames of the conversation socket (`/chat/:id`). */
export function parseServerFrame(value: unknown): Parsed<ServerFrame> {
  return parseWith(value, conversationFrame);
}

/** Checks a decoded value against the server-to-client frames of the inbox socket (`/inbox`). */
export function parseInboxFrame(value: unknown): Parsed<InboxServerFrame> {
  return parseWith(value, inboxFrame);
}

/** A Message from an HTTP answer (`/messages`, `/search`), or null when it is not one. */
export function readMessage(value: unknown): Message | null {
  if (!isRecord(value)) return null;
  try {
    return message(value);
  } catch (err) {
    if (err instanceof Invalid) return null;
    throw err;
  }
}

/** A Summary from an HTTP answer (`/api/conversations`), or null when it is not one. */
export function readSummary(value: unknown): Summary | null {
  if (!isRecord(value)) return null;
  try {
    return summary(value);
  } catch (err) {
    if (err instanceof Invalid) return null;
    throw err;
  }
}

/** The `file` of an upload's answer (`POST /files`, 7.4), or null when it is not one. */
export function readFileRef(value: unknown): FileRef | null {
  try {
    return fileRefs({ files: [value] })?.[0] ?? null;
  } catch (err) {
    if (err instanceof Invalid) return null;
    throw err;
  }
}
