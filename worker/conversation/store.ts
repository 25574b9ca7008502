/**
 * Typed access to one conversation's SQLite storage. Every method is synchronous: the object's
 * SQL API runs in-process, and writes made in one turn of the event loop commit together, which
 * is what makes `seq` gap-free without locks (see docs/architecture.md).
 */
import type { ConversationKind, EventFrame, FileRef, Message, Reaction, Role } from "../../protocol";
import { installSchema } from "./schema";

export interface ConversationMeta {
  id: string;
  kind: ConversationKind;
  title: string;
  private: boolean;
  created: number;
  /** Rooms (v1.1): the topic, "" when none. */
  topic?: string;
  /** v1.1: the room was deleted; the object erases itself once every member's list has heard. */
  deleted?: boolean;
}

export interface MemberRow {
  username: string;
  name: string;
  joinedAt: number;
  readSeq: number;
  role: Role;
  /** The account was erased (v1.1). */
  erased: boolean;
}

const MEMBER_COLUMNS = "username, name, joined_at, read_seq, role, erased";
type MemberSqlRow = { username: string; name: string; joined_at: number; read_seq: number; role: string; erased: number };
const asRole = (v: string): Role => (v === "owner" || v === "admin" ? v : "member");
const toMember = (r: MemberSqlRow): MemberRow => ({
  username: r.username, name: r.name, joinedAt: r.joined_at, readSeq: r.read_seq, role: asRole(r.role), erased: r.erased === 1,
});

type Row = Record<string, SqlStorageValue>;

export const MESSAGE_COLUMNS = "seq, client_id, sender, body, ts, reply_to, edited, deleted";

export interface MessageRow extends Row {
  seq: number;
  client_id: string;
  sender: string;
  body: string;
  ts: number;
  reply_to: number | null;
  edited: number;
  deleted: number;
}

/**
 * An event with, for a `msg`, its message's current state (nulls for other events): seq, type, ts,
 * actor, target, body, emoji, flag, then the message's client_id, body, reply_to, edited, deleted.
 */
type ReplayRow = [
  number, string, number, string, number | null, string | null, string | null, number | null,
  string | null, string | null, number | null, number | null, number | null, string | null, string | null,
];

/** A room event's stored settings (JSON we wrote ourselves; only the shape is re-checked). */
function roomData(text: string | null): { title: string; topic: string; private: boolean } {
  try {
    const v: unknown = JSON.parse(text ?? "{}");
    const o = typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
    return { title: typeof o.title === "string" ? o.title : "", topic: typeof o.topic === "string" ? o.topic : "", private: o.private === true };
  } catch {
    return { title: "", topic: "", private: false };
  }
}

/** Reaction rows, ordered by message then time, grouped by message and emoji. */
function groupReactions(rows: { target: number; emoji: string; username: string }[]): Map<number, Reaction[]> {
  const byTarget = new Map<number, Reaction[]>();
  for (const r of rows) {
    const list = byTarget.get(r.target) ?? [];
    const entry = list.find((x) => x.emoji === r.emoji);
    if (entry) entry.users.push(r.username);
    else list.push({ emoji: r.emoji, users: [r.username] });
    byTarget.set(r.target, list);
  }
  return byTarget;
}

export class ConversationStore {
  #lastSeq: number | undefined;
  #active: Set<string> | undefined;
  readonly #rollbackDrops: (() => void)[] = [];

  /**
   * `transact` runs a function as one SQLite transaction (the object's `transactionSync`): an
   * event row must never be stored without the rows it describes, or the log would have a hole.
   */
  constructor(
    private readonly sql: SqlStorage,
    private readonly transact: <T>(fn: () => T) => T = (fn) => fn(),
  ) {
    installSchema(sql);
  }

  /**
   * Runs `fn` atomically; if it throws, nothing of it is stored, and every copy in memory of what
   * it may have written is dropped: this store's, and those registered with onRollback.
   */
  atomic<T>(fn: () => T): T {
    try {
      return this.transact(fn);
    } catch (err) {
      this.#lastSeq = undefined;
      this.#active = undefined;
      for (const drop of this.#rollbackDrops) drop();
      throw err;
    }
  }

  /** Registers a copy in memory of other rows that atomic() may write, to drop when it rolls back. */
  onRollback(drop: () => void): void {
    this.#rollbackDrops.push(drop);
  }

  // ---- meta and members ----------------------------------------------------------------------

  meta(): ConversationMeta | null {
    const rows = this.sql.exec<{ k: string; v: string }>("SELECT k, v FROM meta").toArray();
    if (rows.length === 0) return null;
    const m = new Map(rows.map((r) => [r.k, r.v]));
    const kind = m.get("kind");
    if (kind !== "dm" && kind !== "room") return null;
    return {
      id: m.get("id") ?? "",
      kind,
      title: m.get("title") ?? "",
      private: m.get("private") === "1",
      created: Number(m.get("created") ?? 0),
      topic: m.get("topic") ?? "",
      deleted: m.get("deleted") === "1",
    };
  }

  /** Sets one field of the conversation's meta (title, topic, private, deleted). */
  setMeta(k: "title" | "topic" | "private" | "deleted", v: string): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", k, v);
  }

  initMeta(meta: ConversationMeta): void {
    const put = (k: string, v: string) => this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", k, v);
    put("id", meta.id);
    put("kind", meta.kind);
    put("title", meta.title);
    put("private", meta.private ? "1" : "0");
    put("created", String(meta.created));
  }

  /**
   * Whether `username` is an active member: asked on every frame, so the set of members is kept in
   * memory (read again after a wake, and after any change to membership).
   */
  isMember(username: string): boolean {
    return this.#activeMembers().has(username);
  }

  #activeMembers(): Set<string> {
    this.#active ??= new Set(
      this.sql.exec<{ username: string }>("SELECT username FROM members WHERE active = 1").toArray().map((r) => r.username),
    );
    return this.#active;
  }

  /** Active members' usernames. */
  activeMembers(): string[] {
    return [...this.#activeMembers()];
  }

  member(username: string): MemberRow | null {
    const row = this.sql
      .exec<MemberSqlRow>(`SELECT ${MEMBER_COLUMNS} FROM members WHERE username = ? AND active = 1`, username)
      .toArray()[0];
    return row ? toMember(row) : null;
  }

  members(): MemberRow[] {
    return this.sql
      .exec<MemberSqlRow>(`SELECT ${MEMBER_COLUMNS} FROM members WHERE active = 1 ORDER BY joined_at, username`)
      .toArray()
      .map(toMember);
  }

  memberCount(): number {
    return this.#activeMembers().size;
  }

  /** Adds or re-activates a member. Returns false when they were already an active member. */
  addMember(username: string, name: string, ts: number, role: Role = "member"): boolean {
    if (this.member(username)) return false;
    this.#active = undefined;
    // A returning member starts unread from now: what they missed while away is not "unread".
    // A returning member starts as a member again, whatever role they had before.
    this.sql.exec(
      `INSERT INTO members (username, name, joined_at, read_seq, active, role) VALUES (?, ?, ?, ?, 1, ?)
       ON CONFLICT (username) DO UPDATE SET name = excluded.name, joined_at = excluded.joined_at,
         read_seq = max(read_seq, excluded.read_seq), active = 1, role = excluded.role`,
      username, name, ts, this.lastSeq(), role,
    );
    return true;
  }

  /** Marks a member as gone; their rows stay so that a return keeps their read mark. */
  removeMember(username: string): boolean {
    this.#active = undefined;
    return this.sql.exec("UPDATE members SET active = 0, role = 'member' WHERE username = ? AND active = 1", username).rowsWritten > 0;
  }

  setRole(username: string, role: Role): void {
    this.sql.exec("UPDATE members SET role = ? WHERE username = ? AND active = 1", role, username);
  }

  /**
   * A member's display name changed (v1.1). `version` orders the calls of their object: an older
   * one arriving late changes nothing. True when the name changed.
   */
  rename(username: string, name: string, version: number): boolean {
    return this.sql.exec("UPDATE members SET name = ?, name_v = ? WHERE username = ? AND name_v < ?", name, version, username, version).rowsWritten > 0;
  }

  /** The member's account was erased: shown as a deleted account from now on (v1.1). */
  markErased(username: string, name: string): boolean {
    return this.sql.exec("UPDATE members SET name = ?, erased = 1, name_v = ? WHERE username = ? AND erased = 0", name, Number.MAX_SAFE_INTEGER, username).rowsWritten > 0;
  }

  /** Moves a member's read mark forward, never back. Returns the new mark if it moved. */
  markRead(username: string, seq: number): number | null {
    const target = Math.min(seq, this.lastSeq());
    const cursor = this.sql.exec(
      "UPDATE members SET read_seq = ? WHERE username = ? AND active = 1 AND read_seq < ?",
      target, username, target,
    );
    return cursor.rowsWritten > 0 ? target : null;
  }

  // ---- the event log ---------------------------------------------------------------------------

  lastSeq(): number {
    this.#lastSeq ??= this.sql.exec<{ s: number | null }>("SELECT max(seq) AS s FROM events").one().s ?? 0;
    return this.#lastSeq;
  }

  #append(
    type: EventFrame["t"] | "deleted",
    ts: number,
    actor: string,
    extra: { target?: number; body?: string; emoji?: string; flag?: boolean; by?: string; data?: string } = {},
  ): number {
    const seq = this.lastSeq() + 1;
    this.sql.exec(
      "INSERT INTO events (seq, type, ts, actor, target, body, emoji, flag, by_user, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      seq, type, ts, actor, extra.target ?? null, extra.body ?? null, extra.emoji ?? null,
      extra.flag === undefined ? null : extra.flag ? 1 : 0, extra.by ?? null, extra.data ?? null,
    );
    this.#lastSeq = seq;
    return seq;
  }

  /** `by`: the admin or owner who removed the member (v1.1). */
  memberEvent(username: string, joined: boolean, ts: number, by?: string): number {
    return this.atomic(() => this.#append("member", ts, username, by === undefined ? { flag: joined } : { flag: joined, by }));
  }

  /** A room's settings after a change (v1.1). */
  roomEvent(by: string, room: { title: string; topic: string; private: boolean }, ts: number): number {
    return this.atomic(() => this.#append("room", ts, by, { data: JSON.stringify(room) }));
  }

  /** A member's new role (v1.1). */
  roleEvent(username: string, role: Role, by: string, ts: number): number {
    return this.atomic(() => this.#append("role", ts, username, { emoji: role, by }));
  }

  /** The last event of a deleted room: never replayed; it orders the removal after every add. */
  deletedEvent(by: string, ts: number): number {
    return this.atomic(() => this.#append("deleted", ts, by));
  }

  /** The message a sender already stored under this client id, if any. */
  findByClientId(sender: string, clientId: string): { seq: number; ts: number } | null {
    const row = this.sql
      .exec<{ seq: number; ts: number }>("SELECT seq, ts FROM messages WHERE sender = ? AND client_id = ?", sender, clientId)
      .toArray()[0];
    return row ?? null;
  }

  /** `within`: more writes of the same transaction, given the new seq (v1.1: attaching files). */
  insertMessage(sender: string, clientId: string, body: string, replyTo: number | undefined, ts: number, within?: (seq: number) => void): number {
    return this.atomic(() => {
      const seq = this.#append("msg", ts, sender);
      this.sql.exec(
        "INSERT INTO messages (seq, client_id, sender, body, ts, reply_to) VALUES (?, ?, ?, ?, ?, ?)",
        seq, clientId, sender, body, ts, replyTo ?? null,
      );
      within?.(seq);
      return seq;
    });
  }

  /** The stored message, or null; deleted messages are returned with `deleted`. */
  message(seq: number): Message | null {
    const rows = this.sql.exec<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq = ?`, seq).toArray();
    return this.withReactions(rows)[0] ?? null;
  }

  editMessage(target: number, editor: string, body: string, ts: number): number {
    return this.atomic(() => {
      const seq = this.#append("edit", ts, editor, { target, body });
      this.sql.exec("UPDATE messages SET body = ?, edited = 1 WHERE seq = ?", body, target);
      this.sql.exec("UPDATE messages_fts SET body = ? WHERE rowid = ?", body, target);
      return seq;
    });
  }

  /**
   * Deletes a message: its body, and every edit's body, are erased from storage. `moderator`: the
   * admin or owner who deleted someone else's message (the event's `by`).
   */
  deleteMessage(target: number, by: string, ts: number, moderator = false): number {
    return this.atomic(() => {
      const seq = this.#append("delete", ts, by, moderator ? { target, by } : { target });
      this.sql.exec("UPDATE messages SET body = '', deleted = 1 WHERE seq = ?", target);
      this.sql.exec("UPDATE events SET body = NULL WHERE target = ? AND type = 'edit'", target);
      this.sql.exec("DELETE FROM messages_fts WHERE rowid = ?", target);
      this.files?.dropFor(target);
      return seq;
    });
  }

  /** Sets or clears one reaction. Returns the event's seq, or null when nothing changed. */
  react(target: number, username: string, emoji: string, on: boolean, ts: number): number | null {
    return this.atomic(() => {
      const changed = on
        ? this.sql.exec("INSERT OR IGNORE INTO reactions (target, emoji, username, at) VALUES (?, ?, ?, ?)", target, emoji, username, ts).rowsWritten
        : this.sql.exec("DELETE FROM reactions WHERE target = ? AND emoji = ? AND username = ?", target, emoji, username).rowsWritten;
      return changed > 0 ? this.#append("react", ts, username, { target, emoji, flag: on }) : null;
    });
  }

  reactionKinds(target: number): number {
    return this.sql.exec<{ n: number }>("SELECT count(DISTINCT emoji) AS n FROM reactions WHERE target = ?", target).one().n;
  }

  /**
   * Events after `since`, oldest first, at most `limit`, as the frames clients replay. One query
   * reads each event with its message's current state (edits applied, deleted bodies gone); a
   * second reads the reactions of the messages in the page, and only when it holds messages.
   */
  eventsAfter(since: number, limit: number): EventFrame[] {
    // Rows as arrays (raw): a replay reads thousands, and named-row objects were most of its cost.
    const rows = [
      ...this.sql
        .exec(
          `SELECT e.seq, e.type, e.ts, e.actor, e.target, e.body, e.emoji, e.flag,
                  m.client_id, m.body, m.reply_to, m.edited, m.deleted, e.by_user, e.data
             FROM events e LEFT JOIN messages m ON m.seq = e.seq AND e.type = 'msg'
            WHERE e.seq > ? ORDER BY e.seq LIMIT ?`,
          since, limit,
        )
        .raw<ReplayRow>(),
    ];
    let lo = 0;
    let hi = 0;
    for (const r of rows) {
      if (r[8] === null) continue;
      if (lo === 0) lo = r[0];
      hi = r[0];
    }
    const reactions = lo === 0 ? null : this.#reactionsBetween(lo, hi);
    const frames: EventFrame[] = [];
    for (const [seq, type, ts, actor, target, body, emoji, flag, clientId, text, replyTo, edited, deleted, by, data] of rows) {
      switch (type) {
        case "msg": {
          if (clientId === null) break; // cannot happen: written in one transaction with its event
          const m: EventFrame = { t: "msg", seq, id: clientId, from: actor, body: text ?? "", ts };
          if (replyTo !== null) m.replyTo = replyTo;
          if (edited) m.edited = true;
          if (deleted) m.deleted = true;
          const r = deleted ? undefined : reactions?.get(seq);
          if (r) m.reactions = r;
          frames.push(m);
          break;
        }
        case "edit":
          frames.push({ t: "edit", seq, target: target ?? 0, body: body ?? "", ts });
          break;
        case "delete":
          frames.push(by === null ? { t: "delete", seq, target: target ?? 0, ts } : { t: "delete", seq, target: target ?? 0, ts, by });
          break;
        case "react":
          frames.push({ t: "react", seq, target: target ?? 0, from: actor, emoji: emoji ?? "", on: flag === 1, ts });
          break;
        case "member":
          frames.push(by === null ? { t: "member", seq, username: actor, joined: flag === 1, ts } : { t: "member", seq, username: actor, joined: flag === 1, ts, by });
          break;
        case "room":
          frames.push({ t: "room", seq, ...roomData(data), by: actor, ts });
          break;
        case "role":
          frames.push({ t: "role", seq, username: actor, role: asRole(emoji ?? ""), by: by ?? "", ts });
          break;
      }
    }
    return this.#withFiles(frames);
  }

  /** The `limit` messages just before `before` (the newest when undefined), ascending. */
  history(before: number | undefined, limit: number): { messages: Message[]; more: boolean } {
    const below = before ?? Number.MAX_SAFE_INTEGER;
    const rows = this.sql
      .exec<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?`, below, limit + 1)
      .toArray();
    const more = rows.length > limit;
    const page = rows.slice(0, limit).reverse();
    return { messages: this.withReactions(page), more };
  }

  /** The newest message's seq (0 when there is none). */
  lastMessageSeq(): number {
    return this.sql.exec<{ s: number | null }>("SELECT max(seq) AS s FROM messages").one().s ?? 0;
  }

  lastMessage(): Message | undefined {
    return this.history(undefined, 1).messages[0];
  }

  /** Messages from others after `readSeq`, deleted ones not counted. */
  unreadFor(username: string, readSeq: number): number {
    return this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM messages WHERE seq > ? AND sender != ? AND deleted = 0", readSeq, username)
      .one().n;
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /** Reactions on messages lo..hi, grouped by message and emoji, in the order they were given. */
  #reactionsBetween(lo: number, hi: number): Map<number, Reaction[]> {
    return groupReactions(
      this.sql
        .exec<{ target: number; emoji: string; username: string }>(
          "SELECT target, emoji, username FROM reactions WHERE target BETWEEN ? AND ? ORDER BY target, at, emoji, username",
          lo, hi,
        )
        .toArray(),
    );
  }

  /** Reactions on the given messages (a page of history, or scattered search hits). */
  #reactionsOf(seqs: number[]): Map<number, Reaction[]> {
    return groupReactions(
      this.sql
        .exec<{ target: number; emoji: string; username: string }>(
          "SELECT target, emoji, username FROM reactions WHERE target IN (SELECT value FROM json_each(?)) ORDER BY target, at, emoji, username",
          JSON.stringify(seqs),
        )
        .toArray(),
    );
  }

  /** Messages with their reactions, read for exactly these messages (one query). */
  withReactions(rows: MessageRow[]): Message[] {
    if (rows.length === 0) return [];
    const byTarget = this.#reactionsOf(rows.map((r) => r.seq));
    return this.#withFiles(rows.map((r) => {
      const m: Message = { seq: r.seq, id: r.client_id, from: r.sender, body: r.body, ts: r.ts };
      if (r.reply_to !== null) m.replyTo = r.reply_to;
      if (r.edited) m.edited = true;
      if (r.deleted) m.deleted = true;
      const reactions = byTarget.get(r.seq);
      if (reactions && !r.deleted) m.reactions = reactions;
      return m;
    }));
  }

  // ---- files (v1.1, issue 15: files.ts) -------------------------------------------------------

  /** The conversation's files, set by the object: messages then carry theirs, and take them along when deleted. */
  files: { refsFor(seqs: readonly number[]): Map<number, FileRef[]>; dropFor(seq: number): void } | null = null;

  /** Sets `files` on the messages (and `msg` events) that have some; one query for the lot. */
  #withFiles<T extends EventFrame | Message>(list: T[]): T[] {
    if (!this.files) return list;
    const isMessage = (m: EventFrame | Message) => !("t" in m) || m.t === "msg";
    const seqs: number[] = [];
    for (const m of list) if (isMessage(m)) seqs.push(m.seq);
    const bySeq = this.files.refsFor(seqs);
    if (bySeq.size === 0) return list;
    for (const m of list) {
      const files = isMessage(m) ? bySeq.get(m.seq) : undefined;
      if (files) (m as Message).files = files;
    }
    return list;
  }
}
