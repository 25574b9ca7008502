/**
 * The account half of a user's object: the profile, the password hash (it never leaves this
 * module), the sessions, and the budgets that belong to a signed-in user (HTTP requests, rooms
 * created a day, conversations). Pure storage logic over the object's SQLite, so that the object
 * itself keeps to sockets, presence and the conversation index.
 *
 * The per-username log-in lockout is not here: it lives in the limiter shards (worker/limiter.ts),
 * so that it answers the same for a made-up username, which has no object worth keeping.
 */
import { DEFAULT_LIMITS, type Me, type User } from "../../protocol";
import { burnPasswordCheck, hashPassword, verifyPassword } from "../auth/password";
import { newSessionId, SESSION_TTL_MS } from "../auth/token";
import { HitWindow } from "./hit-window";
import { installUserSchema } from "./install-schema";

export type SignupResult = { ok: true; user: Me } | { ok: false; reason: "taken" };
export type LoginResult = { ok: true; user: Me; session: string; expires: number } | { ok: false; reason: "wrong" };

/** A window budget: at most `max` events in any `windowMs`. */
export interface Budget {
  max: number;
  windowMs: number;
}

/**
 * Which budget a request is taken from: file downloads have their own (a screen of images is many
 * requests at once, and must not use up what the rest of the app needs), everything else `http`.
 */
export type RequestBudget = Budget & { kind: "http" | "files" };

/** The answer to every authenticated request: the caller, or why not (one round trip for both). */
export type SessionCheck =
  | { ok: true; user: User; expires: number }
  | { ok: false; reason: "unknown" }
  | { ok: false; reason: "rate_limited"; retryAfterSec: number };

export type RoomReservation = { ok: true } | { ok: false; reason: "full" } | { ok: false; reason: "rate_limited"; retryAfterSec: number };

/** Failed log-ins allowed per username in LOGIN_WINDOW_MS (counted in worker/limiter.ts). */
export const LOGIN_FAILURES_ALLOWED = DEFAULT_LIMITS.loginFailuresPerUsername;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const ROOM_WINDOW_MS = 24 * 3600 * 1000;
export const HTTP_WINDOW_MS = 60 * 1000;
/** A place held under the conversation cap lasts this long if the conversation never arrives. */
export const CONVERSATION_HOLD_MS = 60 * 1000;
/** Expired or revoked sessions deleted per new session: bounded work, and enough to keep up. */
export const SESSION_PRUNE_BATCH = 20;
/** A session's last use is written at most this often (every request would cost a write). */
export const LAST_USED_GRANULARITY_MS = 60 * 1000;
/** Longest device description (User-Agent) kept with a session. */
export const AGENT_MAX = 200;

/** A session as its owner sees it (GET /api/me/sessions): never the secret id inside the token. */
export interface SessionInfo {
  id: string;
  created: number;
  lastUsed: number;
  agent?: string;
  current: boolean;
}

const publicId = () => [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, "0")).join("");

export class Account {
  readonly #sql: SqlStorage;
  #profile: User | undefined;
  /** Storage was erased: the object holds no account, and no table until a sign-up. */
  #vacant = false;
  /** Requests in the last minute: in memory, written a moment later (hit-window.ts). */
  readonly requests: Readonly<Record<RequestBudget["kind"], HitWindow>>;

  constructor(private readonly storage: DurableObjectStorage) {
    this.#sql = storage.sql;
    this.requests = { http: new HitWindow(this.#sql, "http_hits"), files: new HitWindow(this.#sql, "file_hits") };
  }

  #read(): User | null {
    if (this.#vacant) return null;
    if (this.#profile === undefined) {
      const row = this.#sql.exec<{ username: string; name: string }>("SELECT username, name FROM account WHERE erased = 0").toArray()[0];
      if (!row) return null;
      this.#profile = { username: row.username, name: row.name };
    }
    return this.#profile;
  }

  /** An account row exists, erased or not: an erased username is never given out again. */
  #exists(): boolean {
    return !this.#vacant && this.#sql.exec("SELECT 1 FROM account").toArray().length > 0;
  }

  /** The username of an erased account (its tombstone), for the steps that follow the erasure. */
  erasedUsername(): string | null {
    if (this.#vacant) return null;
    return this.#sql.exec<{ username: string }>("SELECT username FROM account WHERE erased = 1").toArray()[0]?.username ?? null;
  }

  /**
   * The account, read once per wake: it is asked for on every notification. Asked of an object
   * that holds none (a made-up username in a log-in, a DM, an invitation), the object erases itself.
   */
  profile(): User | null {
    const user = this.#read();
    if (!user) this.#vacate();
    return user;
  }

  /**
   * Erases what the object's constructor created (its empty tables): a name that does not exist
   * must leave no storage behind (PROTOCOL.md 7.5). Re-checked synchronously, so a sign-up that
   * finished meanwhile is never erased; `deleteAll` takes effect at once in SQLite-backed objects.
   */
  #vacate(): void {
    if (this.#vacant || this.#exists()) return;
    this.#vacant = true;
    for (const w of Object.values(this.requests)) w.reset();
    this.storage.deleteAll().catch(() => {});
  }

  /** Before the first write after a vacate: the tables the constructor would have made. */
  #occupy(): void {
    if (!this.#vacant) return;
    installUserSchema(this.#sql);
    this.#vacant = false;
  }

  async signup(username: string, password: string, name: string): Promise<SignupResult> {
    if (this.#exists()) return { ok: false, reason: "taken" };
    const h = await hashPassword(password);
    // The hash took a while with the input gate open: check again before writing.
    if (this.#exists()) return { ok: false, reason: "taken" };
    this.#occupy();
    this.#sql.exec(
      "INSERT INTO account (username, name, salt, hash, iterations, created) VALUES (?, ?, ?, ?, ?, ?)",
      username, name, h.salt, h.hash, h.iterations, Date.now(),
    );
    return { ok: true, user: { username, name, previews: true } };
  }

  /** Checks the password; an unknown username costs the same work, and leaves nothing stored. */
  async login(password: string, agent?: string): Promise<LoginResult> {
    const row = this.#credentials();
    if (!row) {
      await burnPasswordCheck(password);
      this.#vacate();
      return { ok: false, reason: "wrong" };
    }
    if (!(await verifyPassword(password, { salt: row.salt, hash: row.hash, iterations: row.iterations }))) {
      return { ok: false, reason: "wrong" };
    }
    return { ok: true, user: { username: row.username, name: row.name, previews: row.previews !== 0 }, ...this.createSession(agent) };
  }

  /** The live account's name and hash (an erased account has none). */
  #credentials() {
    if (this.#vacant) return undefined;
    return this.#sql
      .exec<{ username: string; name: string; salt: string; hash: string; iterations: number; previews: number }>(
        "SELECT username, name, salt, hash, iterations, previews FROM account WHERE erased = 0",
      )
      .toArray()[0];
  }

  /** Whether `password` is the account's (constant time; an erased account has none). */
  async #passwordOk(password: string): Promise<boolean> {
    const row = this.#credentials();
    if (!row) {
      await burnPasswordCheck(password);
      return false;
    }
    return verifyPassword(password, { salt: row.salt, hash: row.hash, iterations: row.iterations });
  }

  /** A new session for the account (sign-up signs in); a few dead ones are pruned on the way. */
  createSession(agent?: string, now = Date.now()): { session: string; expires: number } {
    this.#sql.exec(
      "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires <= ? OR revoked = 1 LIMIT ?)",
      now, SESSION_PRUNE_BATCH,
    );
    const session = newSessionId();
    const expires = now + SESSION_TTL_MS;
    this.#sql.exec(
      "INSERT INTO sessions (id, created, expires, pid, last_used, agent) VALUES (?, ?, ?, ?, ?, ?)",
      session, now, expires, publicId(), now, agent ? agent.slice(0, AGENT_MAX) : null,
    );
    return { session, expires };
  }

  // ---- account settings (PROTOCOL.md 7.1) ------------------------------------------------------

  setName(name: string): User | null {
    const user = this.#read();
    if (!user) return null;
    this.#sql.exec("UPDATE account SET name = ?", name);
    this.#profile = { username: user.username, name };
    return this.#profile;
  }

  /** The account with its own settings (v1.1, 7.6: whether pushes carry message previews). */
  me(): Me | null {
    const user = this.#read();
    if (!user) return null;
    return { ...user, previews: this.previews() };
  }

  /** Whether pushes may carry message text (true unless the user turned it off). */
  previews(): boolean {
    if (this.#vacant) return true;
    return (this.#sql.exec<{ previews: number }>("SELECT previews FROM account WHERE erased = 0").toArray()[0]?.previews ?? 1) !== 0;
  }

  setPreviews(on: boolean): void {
    if (this.#read()) this.#sql.exec("UPDATE account SET previews = ? WHERE erased = 0", on ? 1 : 0);
  }

  /** Replaces the password if `current` is right; the caller revokes the other sessions. */
  async changePassword(current: string, password: string): Promise<boolean> {
    if (!(await this.#passwordOk(current))) return false;
    const h = await hashPassword(password);
    this.#sql.exec("UPDATE account SET salt = ?, hash = ?, iterations = ? WHERE erased = 0", h.salt, h.hash, h.iterations);
    return true;
  }

  /**
   * Erases the account if `password` is right: no session and no hash remain, the row stays as a
   * tombstone with the username only (never given out again; log-in answers 401). Returns the
   * sessions that were live, for their sockets to be closed.
   */
  async erase(password: string): Promise<string[] | null> {
    if (!(await this.#passwordOk(password))) return null;
    const live = this.liveSessions();
    this.#sql.exec("DELETE FROM sessions");
    this.#sql.exec("UPDATE account SET name = '', salt = '', hash = '', iterations = 0, erased = 1");
    this.#profile = undefined;
    return live;
  }

  isLive(session: string, now = Date.now()): boolean {
    if (this.#vacant) return false;
    return this.#sql.exec("SELECT 1 FROM sessions WHERE id = ? AND revoked = 0 AND expires > ?", session, now).toArray().length > 0;
  }

  liveSessions(now = Date.now()): string[] {
    if (this.#vacant) return [];
    return this.#sql.exec<{ id: string }>("SELECT id FROM sessions WHERE revoked = 0 AND expires > ?", now).toArray().map((r) => r.id);
  }

  /** The live sessions, newest use first; `current` marks the caller's. */
  sessions(current: string, now = Date.now()): SessionInfo[] {
    if (this.#vacant) return [];
    this.#sql.exec("UPDATE sessions SET pid = lower(hex(randomblob(12))) WHERE pid IS NULL");
    return this.#sql
      .exec<{ id: string; pid: string; created: number; last_used: number | null; agent: string | null }>(
        "SELECT id, pid, created, last_used, agent FROM sessions WHERE revoked = 0 AND expires > ? ORDER BY coalesce(last_used, created) DESC",
        now,
      )
      .toArray()
      .map((r) => {
        const info: SessionInfo = { id: r.pid, created: r.created, lastUsed: r.last_used ?? r.created, current: r.id === current };
        if (r.agent) info.agent = r.agent;
        return info;
      });
  }

  /** The secret session id behind a public one, if it is live. */
  sessionByPublicId(pid: string, now = Date.now()): string | null {
    if (this.#vacant) return null;
    return this.#sql.exec<{ id: string }>("SELECT id FROM sessions WHERE pid = ? AND revoked = 0 AND expires > ?", pid, now).toArray()[0]?.id ?? null;
  }

  /**
   * The account if `session` is one of its live sessions, and, when `budget` is given, one
   * request taken from the caller's HTTP budget: checked and counted in the same call, so parallel
   * requests cannot overdraw it.
   */
  checkSession(session: string, budget?: RequestBudget, now = Date.now()): SessionCheck {
    if (this.#vacant) return { ok: false, reason: "unknown" };
    const live = this.#sql
      .exec<{ expires: number; used: number }>(
        "SELECT expires, coalesce(last_used, 0) AS used FROM sessions WHERE id = ? AND revoked = 0 AND expires > ?", session, now)
      .toArray()[0];
    const user = live ? this.#read() : null;
    if (!live || !user) return { ok: false, reason: "unknown" };
    // Only when due: a statement that writes, even nothing, would hold the answer for a commit.
    if (live.used < now - LAST_USED_GRANULARITY_MS) this.#sql.exec("UPDATE sessions SET last_used = ? WHERE id = ?", now, session);
    if (budget) {
      const wait = this.requests[budget.kind].take(budget, now);
      if (wait !== null) return { ok: false, reason: "rate_limited", retryAfterSec: wait };
    }
    return { ok: true, user, expires: live.expires };
  }

  /**
   * Holds a place for conversation `id` under the cap of `max` conversations (true), or refuses
   * (false); one already in the list always has its place. Places held count until the
   * conversation arrives in the list or CONVERSATION_HOLD_MS passes, so requests made at the same
   * moment cannot all pass the cap: check and hold are one call.
   */
  reserveConversation(id: string, max: number, now = Date.now()): boolean {
    if (this.#vacant || !this.#hasPlace(id, max, now)) return false;
    this.#hold(id, now);
    return true;
  }

  /** Takes one room creation from the day's budget and holds the room's place under the cap. */
  reserveRoom(id: string, perDay: number, maxConversations: number, now = Date.now()): RoomReservation {
    if (this.#vacant || !this.#hasPlace(id, maxConversations, now)) return { ok: false, reason: "full" };
    const wait = takeFromWindow(this.#sql, "room_creations", { max: perDay, windowMs: ROOM_WINDOW_MS }, now);
    if (wait !== null) return { ok: false, reason: "rate_limited", retryAfterSec: wait };
    this.#hold(id, now);
    return { ok: true };
  }

  #hasPlace(id: string, max: number, now: number): boolean {
    if (this.#sql.exec("SELECT 1 FROM convs WHERE id = ?", id).toArray().length > 0) return true;
    this.#sql.exec("DELETE FROM conversation_holds WHERE at <= ? OR id IN (SELECT id FROM convs)", now - CONVERSATION_HOLD_MS);
    const held = this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM conversation_holds WHERE id <> ?", id).one().n;
    return this.#conversations() + held < max;
  }

  #hold(id: string, now: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO conversation_holds (id, at) VALUES (?, ?)", id, now);
  }

  revoke(session: string): void {
    if (this.#vacant) return;
    this.#sql.exec("UPDATE sessions SET revoked = 1 WHERE id = ?", session);
  }

  /** How many conversations the list holds (the cap counts these and the places held). */
  #conversations(): number {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM convs").one().n;
  }
}

/**
 * A sliding window over one `(at INTEGER)` table: takes an event and answers null if fewer than
 * `budget.max` fall in the window, else the seconds until the oldest one leaves it. The table holds
 * at most `max` rows.
 */
function takeFromWindow(sql: SqlStorage, table: "room_creations", budget: Budget, now: number): number | null {
  sql.exec(`DELETE FROM ${table} WHERE at <= ?`, now - budget.windowMs);
  const { n, oldest } = sql.exec<{ n: number; oldest: number | null }>(`SELECT count(*) AS n, min(at) AS oldest FROM ${table}`).one();
  if (n >= budget.max) return Math.max(1, Math.ceil(((oldest ?? now) + budget.windowMs - now) / 1000));
  sql.exec(`INSERT INTO ${table} (at) VALUES (?)`, now);
  return null;
}
