/**
 * One Durable Object per user: the account (the password hash never leaves it), the sessions,
 * and the index of the user's conversations with their unread counts.
 */
import { DurableObject } from "cloudflare:workers";
import type { ConversationKind, Message, Summary, User } from "../../protocol";
import { burnPasswordCheck, hashPassword, verifyPassword } from "../auth/password";
import { newSessionId, SESSION_TTL_MS } from "../auth/token";
import { USER_SCHEMA } from "./schema";

export type SignupResult = { ok: true; user: User } | { ok: false; reason: "taken" };
export type LoginResult = { ok: true; user: User; session: string; expires: number } | { ok: false; reason: "wrong" | "rate_limited" };

/** What a conversation object tells a member's object after new events (see ConversationObject). */
export interface ActivityItem {
  seq: number;
  from: string;
  preview: string;
  ts: number;
  /** Deleted before this batch was made: never counted as unread. */
  deleted?: boolean;
}

export interface ActivityBatch {
  conv: string;
  /** The conversation's last seq and last message when the batch was made. */
  lastSeq: number;
  last: Message | null;
  /** New messages, ascending; each counted once even if the batch is delivered twice. */
  items: ActivityItem[];
  /** Messages deleted since: a deleted message no longer counts as unread. */
  deleted: { target: number; from: string; seq: number }[];
}

/** What a user's index needs to know of a conversation they joined. */
export interface IndexEntry {
  id: string;
  kind: ConversationKind;
  title: string;
  peer?: string;
  members?: number;
  private?: boolean;
  lastSeq: number;
  readSeq: number;
  unread: number;
  last?: Message;
}

/** Failed log-ins allowed per username in LOGIN_WINDOW_MS before further tries are refused. */
export const LOGIN_FAILURES_ALLOWED = 10;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

interface ConvRow extends Record<string, SqlStorageValue> {
  id: string;
  kind: string;
  title: string;
  peer: string | null;
  members: number | null;
  private: number;
  last_seq: number;
  read_seq: number;
  unread: number;
  last: string | null;
}

export class UserObject extends DurableObject<Env> {
  readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const statement of USER_SCHEMA) this.sql.exec(statement);
  }

  // ---- account and sessions ------------------------------------------------------------------

  profile(): User | null {
    const row = this.sql.exec<{ username: string; name: string }>("SELECT username, name FROM account").toArray()[0];
    return row ? { username: row.username, name: row.name } : null;
  }

  async signup(username: string, password: string, name: string): Promise<SignupResult> {
    if (this.profile()) return { ok: false, reason: "taken" };
    const h = await hashPassword(password);
    // The hash took a while and the input gate was open meanwhile: check again before writing.
    if (this.profile()) return { ok: false, reason: "taken" };
    this.sql.exec(
      "INSERT INTO account (username, name, salt, hash, iterations, created) VALUES (?, ?, ?, ?, ?, ?)",
      username, name, h.salt, h.hash, h.iterations, Date.now(),
    );
    return { ok: true, user: { username, name } };
  }

  async login(password: string): Promise<LoginResult> {
    const now = Date.now();
    this.sql.exec("DELETE FROM login_failures WHERE at < ?", now - LOGIN_WINDOW_MS);
    const failures = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM login_failures").one().n;
    if (failures >= LOGIN_FAILURES_ALLOWED) return { ok: false, reason: "rate_limited" };
    const row = this.sql
      .exec<{ username: string; name: string; salt: string; hash: string; iterations: number }>(
        "SELECT username, name, salt, hash, iterations FROM account",
      )
      .toArray()[0];
    if (!row) {
      await burnPasswordCheck(password);
      return { ok: false, reason: "wrong" };
    }
    if (!(await verifyPassword(password, { salt: row.salt, hash: row.hash, iterations: row.iterations }))) {
      this.sql.exec("INSERT INTO login_failures (at) VALUES (?)", now);
      return { ok: false, reason: "wrong" };
    }
    this.sql.exec("DELETE FROM login_failures");
    return { ok: true, user: { username: row.username, name: row.name }, ...this.createSession(now) };
  }

  /** A new session for the account (sign-up signs in). */
  createSession(now = Date.now()): { session: string; expires: number } {
    const session = newSessionId();
    const expires = now + SESSION_TTL_MS;
    this.sql.exec("INSERT INTO sessions (id, created, expires) VALUES (?, ?, ?)", session, now, expires);
    return { session, expires };
  }

  /** The account if `session` is one of its live sessions; null if revoked, expired or unknown. */
  checkSession(session: string): User | null {
    const live = this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE id = ? AND revoked = 0 AND expires > ?", session, Date.now())
      .one().n;
    return live > 0 ? this.profile() : null;
  }

  /** Revokes a session and closes every socket opened with it, here and in my conversations. */
  async revokeSession(session: string): Promise<void> {
    this.sql.exec("UPDATE sessions SET revoked = 1 WHERE id = ?", session);
    for (const ws of this.ctx.getWebSockets(`s:${session}`)) {
      try { ws.close(4401, "session revoked"); } catch { /* already closed */ }
    }
    const convs = this.sql.exec<{ id: string }>("SELECT id FROM convs").toArray();
    await Promise.allSettled(
      convs.map((c) => this.env.CONVERSATIONS.get(this.env.CONVERSATIONS.idFromName(c.id)).closeSession(session)),
    );
  }

  // ---- the conversation index ----------------------------------------------------------------

  /** Adds (or refreshes) a conversation in my index. Returns the summary as I see it. */
  addConversation(entry: IndexEntry): Summary {
    const now = Date.now();
    this.sql.exec(
      `INSERT INTO convs (id, kind, title, peer, members, private, last_seq, read_seq, unread, notified_seq, last, updated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET title = excluded.title, members = excluded.members,
         last_seq = max(last_seq, excluded.last_seq), read_seq = max(read_seq, excluded.read_seq),
         unread = CASE WHEN excluded.last_seq >= notified_seq THEN excluded.unread ELSE unread END,
         notified_seq = max(notified_seq, excluded.last_seq),
         last = CASE WHEN excluded.last_seq >= last_seq THEN excluded.last ELSE last END`,
      entry.id, entry.kind, entry.title, entry.peer ?? null, entry.members ?? null, entry.private ? 1 : 0,
      entry.lastSeq, entry.readSeq, entry.unread, entry.lastSeq, entry.last ? JSON.stringify(entry.last) : null,
      entry.last?.ts ?? now,
    );
    return this.summary(entry.id)!;
  }

  summary(id: string): Summary | null {
    const row = this.sql.exec<ConvRow>("SELECT * FROM convs WHERE id = ?", id).toArray()[0];
    return row ? toSummary(row) : null;
  }

  /** Every conversation of mine, most recent activity first. */
  summaries(): Summary[] {
    return this.sql.exec<ConvRow>("SELECT * FROM convs ORDER BY updated DESC, id").toArray().map(toSummary);
  }

  /** Counts new messages from others once each, however often a batch is delivered. */
  activity(batch: ActivityBatch): void {
    const me = this.profile()?.username;
    const row = this.sql.exec<{ read_seq: number; notified_seq: number; unread: number; updated: number }>(
      "SELECT read_seq, notified_seq, unread, updated FROM convs WHERE id = ?", batch.conv,
    ).toArray()[0];
    if (!me || !row) return;
    let { unread, updated } = row;
    let notified = row.notified_seq;
    for (const item of batch.items) {
      if (item.seq <= notified) continue;
      notified = item.seq;
      updated = Math.max(updated, item.ts);
      if (item.from !== me && item.seq > row.read_seq && !item.deleted) unread++;
    }
    for (const d of batch.deleted) {
      // Only a message already counted, from someone else, still unread, is taken off again.
      if (d.seq <= row.notified_seq) continue;
      if (d.from !== me && d.target > row.read_seq && d.target <= row.notified_seq) unread = Math.max(0, unread - 1);
    }
    notified = Math.max(notified, ...batch.deleted.map((d) => d.seq));
    this.sql.exec(
      `UPDATE convs SET unread = ?, notified_seq = ?, updated = ?, last_seq = max(last_seq, ?),
         last = CASE WHEN ? >= last_seq THEN ? ELSE last END WHERE id = ?`,
      unread, notified, updated, batch.lastSeq, batch.lastSeq, batch.last ? JSON.stringify(batch.last) : null, batch.conv,
    );
  }

  /** My read mark moved (on any device): `unread` is exact as of `asOf`, the conversation's last seq then. */
  readMoved(conv: string, seq: number, unread: number, asOf: number): void {
    this.sql.exec(
      `UPDATE convs SET read_seq = ?, unread = ?, notified_seq = max(notified_seq, ?) WHERE id = ? AND read_seq < ?`,
      seq, unread, asOf, conv, seq,
    );
  }

  removeConversation(conv: string): void {
    this.sql.exec("DELETE FROM convs WHERE id = ?", conv);
  }
}

function parseLast(text: string | null): Message | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null ? (v as Message) : undefined;
  } catch {
    return undefined;
  }
}

function toSummary(row: ConvRow): Summary {
  const kind: ConversationKind = row.kind === "dm" ? "dm" : "room";
  const s: Summary = { id: row.id, kind, title: row.title, lastSeq: row.last_seq, readSeq: row.read_seq, unread: row.unread };
  if (row.peer !== null) s.peer = row.peer;
  if (row.members !== null) s.members = row.members;
  if (row.private) s.private = true;
  const last = parseLast(row.last);
  if (last) s.last = last;
  return s;
}
