/**
 * Typed access to one conversation's SQLite storage. Every method is synchronous: the object's
 * SQL API runs in-process, and writes made in one turn of the event loop commit together, which
 * is what makes `seq` gap-free without locks (see docs/architecture.md).
 */
import type { ConversationKind, EventFrame, FileRef, Message, Role } from "../../protocol";
import { mentions } from "../../protocol/markup";
import { LogReader } from "./log-reader";
import { asRole, MESSAGE_COLUMNS, type MessageRow } from "./rows";

export { MESSAGE_COLUMNS, type MessageRow } from "./rows";

/** Unread mentions counted per member and conversation: a badge shows "99+" past that anyway. */
export const MENTIONS_COUNTED_MAX = 100;
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
const toMember = (r: MemberSqlRow): MemberRow => ({
  username: r.username, name: r.name, joinedAt: r.joined_at, readSeq: r.read_seq, role: asRole(r.role), erased: r.erased === 1,
});



export class ConversationStore {
  #lastSeq: number | undefined;
  /**
   * The active members, read once after a wake and kept in step with every write to them: every
   * frame asks whether its sender is one, and every new socket's welcome lists them all.
   */
  #members: Map<string, MemberRow> | undefined;
  #sortedMembers: MemberRow[] | undefined;
  /** The newest message as a welcome or a notification shows it; dropped by every change to it. */
  #last: Message | null | undefined;
  /** Unread counts as last computed, by member (see unreadFor). */
  readonly #unread = new Map<string, { readSeq: number; n: number; stored: number; storedBySelf: number }>();
  /**
   * Messages stored by this instance, in all and by sender: what unreadFor adds to a count it
   * kept, without a query. Never reset: counts compare a difference of them.
   */
  #stored = 0;
  readonly #storedBy = new Map<string, number>();
  readonly #rollbackDrops: (() => void)[] = [];
  readonly #reader: LogReader;

  /**
   * `transact` runs a function as one SQLite transaction (the object's `transactionSync`): an
   * event row must never be stored without the rows it describes, or the log would have a hole.
   */
  constructor(
    private readonly sql: SqlStorage,
    private readonly transact: <T>(fn: () => T) => T = (fn) => fn(),
  ) {
    installSchema(sql);
    this.#reader = new LogReader(sql, () => this.files);
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
      this.#forgetMembers();
      this.#unread.clear();
      this.#last = undefined;
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
    // The log's format: messages are their own events (schema.ts); nothing to migrate.
    put("log", "2");
  }

  /**
   * Whether `username` is an active member: asked on every frame, so the set of members is kept in
   * memory (read again after a wake, and after any change to membership).
   */
  isMember(username: string): boolean {
    return this.#activeMembers().has(username);
  }

  #activeMembers(): Map<string, MemberRow> {
    if (this.#members === undefined) {
      const rows = this.sql
        .exec<MemberSqlRow>(`SELECT ${MEMBER_COLUMNS} FROM members WHERE active = 1 ORDER BY joined_at, username`)
        .toArray()
        .map(toMember);
      this.#members = new Map(rows.map((m) => [m.username, m]));
      this.#sortedMembers = rows;
    }
    return this.#members;
  }

  /** Membership rows changed in storage: read them again when next asked. */
  #forgetMembers(): void {
    this.#members = undefined;
    this.#sortedMembers = undefined;
  }

  /** Active members' usernames. */
  activeMembers(): string[] {
    return [...this.#activeMembers().keys()];
  }

  /** The row kept here (read-only: it changes only with storage). */
  member(username: string): Readonly<MemberRow> | null {
    return this.#activeMembers().get(username) ?? null;
  }

  /** In the order they joined; the rows kept here, read-only. */
  members(): readonly Readonly<MemberRow>[] {
    this.#activeMembers();
    return this.#sortedMembers ?? [];
  }

  memberCount(): number {
    return this.#activeMembers().size;
  }

  /** Adds or re-activates a member. Returns false when they were already an active member. */
  addMember(username: string, name: string, ts: number, role: Role = "member"): boolean {
    if (this.member(username)) return false;
    this.#forgetMembers();
    this.#unread.delete(username);
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
    this.#forgetMembers();
    return this.sql.exec("UPDATE members SET active = 0, role = 'member' WHERE username = ? AND active = 1", username).rowsWritten > 0;
  }

  setRole(username: string, role: Role): void {
    this.#forgetMembers();
    this.sql.exec("UPDATE members SET role = ? WHERE username = ? AND active = 1", role, username);
  }

  /**
   * A member's display name changed (v1.1). `version` orders the calls of their object: an older
   * one arriving late changes nothing. True when the name changed.
   */
  rename(username: string, name: string, version: number): boolean {
    this.#forgetMembers();
    return this.sql.exec("UPDATE members SET name = ?, name_v = ? WHERE username = ? AND name_v < ?", name, version, username, version).rowsWritten > 0;
  }

  /** The member's account was erased: shown as a deleted account from now on (v1.1). */
  markErased(username: string, name: string): boolean {
    this.#forgetMembers();
    return this.sql.exec("UPDATE members SET name = ?, erased = 1, name_v = ? WHERE username = ? AND erased = 0", name, Number.MAX_SAFE_INTEGER, username).rowsWritten > 0;
  }

  /** Moves a member's read mark forward, never back. Returns the new mark if it moved. */
  markRead(username: string, seq: number): number | null {
    const target = Math.min(seq, this.lastSeq());
    const cursor = this.sql.exec(
      "UPDATE members SET read_seq = ? WHERE username = ? AND active = 1 AND read_seq < ?",
      target, username, target,
    );
    if (cursor.rowsWritten === 0) return null;
    const kept = this.#members?.get(username);
    if (kept) kept.readSeq = target;
    return target;
  }

  // ---- the event log ---------------------------------------------------------------------------

  /** The log's last seq: messages and other events share one sequence (schema.ts). */
  lastSeq(): number {
    this.#lastSeq ??= this.sql
      .exec<{ s: number | null }>("SELECT max(coalesce((SELECT max(seq) FROM events), 0), coalesce((SELECT max(seq) FROM messages), 0)) AS s")
      .one().s ?? 0;
    return this.#lastSeq;
  }

  #append(
    type: Exclude<EventFrame["t"], "msg"> | "deleted",
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

  /**
   * Stores a message: its row is its own event in the log (one write, the one a send must make).
   * Returns its seq, or null when the sender already stored a message with this client id (a
   * resend: nothing is written). The unique index answers that in the insert itself, so a new
   * message costs one statement, not a look-up and then an insert.
   * `within`: more writes of the same transaction, given the new seq (v1.1: attaching files); a
   * plain message needs no transaction, being one statement.
   */
  insertMessage(sender: string, clientId: string, body: string, replyTo: number | undefined, ts: number, within?: (seq: number) => void): number | null {
    const insert = () => {
      this.#last = undefined;
      const seq = this.lastSeq() + 1;
      const written = this.sql.exec(
        "INSERT INTO messages (seq, client_id, sender, body, ts, reply_to) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sender, client_id) DO NOTHING",
        seq, clientId, sender, body, ts, replyTo ?? null,
      ).rowsWritten;
      if (written === 0) return null;
      this.#lastSeq = seq;
      within?.(seq);
      this.#stored++;
      this.#storedBy.set(sender, (this.#storedBy.get(sender) ?? 0) + 1);
      // The newest message is this one, as a welcome's preview reads it back (no reactions yet), so
      // the next welcome need not read it; one with files is read back with them when asked.
      if (!within) {
        const m: Message = { seq, id: clientId, from: sender, body, ts };
        if (replyTo !== undefined) m.replyTo = replyTo;
        this.#last = m;
      }
      return seq;
    };
    if (within) return this.atomic(insert);
    try {
      return insert();
    } catch (err) {
      this.#lastSeq = undefined;
      throw err;
    }
  }

  /** The stored message, or null; deleted messages are returned with `deleted`. */
  message(seq: number): Message | null {
    const rows = this.sql.exec<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq = ?`, seq).toArray();
    return this.withReactions(rows)[0] ?? null;
  }

  editMessage(target: number, editor: string, body: string, ts: number): number {
    return this.atomic(() => {
      this.#last = undefined;
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
      this.#last = undefined;
      const seq = this.#append("delete", ts, by, moderator ? { target, by } : { target });
      this.sql.exec("UPDATE messages SET body = '', deleted = 1 WHERE seq = ?", target);
      this.#unread.clear();
      this.sql.exec("UPDATE events SET body = NULL WHERE target = ? AND type = 'edit'", target);
      this.sql.exec("DELETE FROM messages_fts WHERE rowid = ?", target);
      this.files?.dropFor(target);
      return seq;
    });
  }

  /** Sets or clears one reaction. Returns the event's seq, or null when nothing changed. */
  react(target: number, username: string, emoji: string, on: boolean, ts: number): number | null {
    return this.atomic(() => {
      this.#last = undefined;
      if (on) this.#reader.reacting(target);
      const changed = on
        ? this.sql.exec("INSERT OR IGNORE INTO reactions (target, emoji, username, at) VALUES (?, ?, ?, ?)", target, emoji, username, ts).rowsWritten
        : this.sql.exec("DELETE FROM reactions WHERE target = ? AND emoji = ? AND username = ?", target, emoji, username).rowsWritten;
      return changed > 0 ? this.#append("react", ts, username, { target, emoji, flag: on }) : null;
    });
  }

  reactionKinds(target: number): number {
    return this.sql.exec<{ n: number }>("SELECT count(DISTINCT emoji) AS n FROM reactions WHERE target = ?", target).one().n;
  }

  /** Events after `since`, oldest first, at most `limit`, as the frames clients replay (log-reader.ts). */
  eventsAfter(since: number, limit: number): EventFrame[] {
    return this.#reader.eventsAfter(since, limit);
  }

  /** The `limit` messages just before `before` (the newest when undefined), ascending. */
  history(before: number | undefined, limit: number): { messages: Message[]; more: boolean } {
    return this.#reader.history(before, limit);
  }

  /** The newest message's seq (0 when there is none). */
  lastMessageSeq(): number {
    return this.sql.exec<{ s: number | null }>("SELECT max(seq) AS s FROM messages").one().s ?? 0;
  }

  /** Asked by every welcome and every notification round: kept until a message changes. */
  lastMessage(): Message | undefined {
    if (this.#last === undefined) this.#last = this.history(undefined, 1).messages[0] ?? null;
    return this.#last ?? undefined;
  }

  /**
   * Messages from others after `readSeq`, deleted ones not counted. Every new socket's welcome and
   * every read mark asks, and counting a long backlog each time was most of a reconnect: the last
   * count is kept per member, and what came after it is added from the messages this instance
   * stored meanwhile (all of them, since a message is stored only here; less the member's own),
   * with no query: a reconnect that replays what it missed otherwise counted it again (issue 17).
   * A deletion, which can lower any count, and a rolled-back write start them all over.
   */
  unreadFor(username: string, readSeq: number): number {
    const kept = this.#unread.get(username);
    const bySelf = this.#storedBy.get(username) ?? 0;
    let n: number;
    if (kept && kept.readSeq === readSeq) {
      n = kept.n + (this.#stored - kept.stored) - (bySelf - kept.storedBySelf);
    } else {
      n = readSeq >= this.lastSeq() ? 0 : this.sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM messages WHERE seq > ? AND sender != ? AND deleted = 0", readSeq, username)
        .one().n;
    }
    this.#unread.set(username, { readSeq, n, stored: this.#stored, storedBySelf: bySelf });
    return n;
  }

  /**
   * The seqs of unread messages from others that mention `username` (the app's rule), ascending,
   * the newest MENTIONS_COUNTED_MAX at most. SQL finds the candidates ("@name" anywhere, any
   * case), the shared rule decides (not in code, not a longer name).
   */
  unreadMentions(username: string, readSeq: number): number[] {
    const out: number[] = [];
    const rows = this.sql.exec<{ seq: number; body: string }>(
      "SELECT seq, body FROM messages WHERE seq > ? AND sender != ? AND deleted = 0 AND instr(lower(body), ?) > 0 ORDER BY seq DESC",
      readSeq, username, `@${username}`,
    );
    for (const r of rows) {
      if (!mentions(r.body).includes(username)) continue;
      out.push(r.seq);
      if (out.length === MENTIONS_COUNTED_MAX) break;
    }
    return out.reverse();
  }

  /** Messages with their reactions and files, read for exactly these messages. */
  withReactions(rows: MessageRow[]): Message[] {
    return this.#reader.withReactions(rows);
  }

  // ---- files (v1.1, issue 15: files.ts) -------------------------------------------------------

  /** The conversation's files, set by the object: messages then carry theirs, and take them along when deleted. */
  files: { refsFor(seqs: readonly number[]): Map<number, FileRef[]>; dropFor(seq: number): void } | null = null;
}
