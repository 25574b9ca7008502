/**
 * The account half of a user's object: the profile, the password hash (it never leaves this
 * module), the sessions and the per-username log-in lockout. Pure storage logic over the object's
 * SQLite, so that the object itself keeps to sockets, presence and the conversation index.
 */
import type { User } from "../../protocol";
import { burnPasswordCheck, hashPassword, verifyPassword } from "../auth/password";
import { newSessionId, SESSION_TTL_MS } from "../auth/token";

export type SignupResult = { ok: true; user: User } | { ok: false; reason: "taken" };
export type LoginResult = { ok: true; user: User; session: string; expires: number } | { ok: false; reason: "wrong" | "rate_limited" };

/** Failed log-ins allowed per username in LOGIN_WINDOW_MS before further tries are refused. */
export const LOGIN_FAILURES_ALLOWED = 10;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

export class Account {
  #profile: User | undefined;

  constructor(private readonly sql: SqlStorage) {}

  /** The account, read once per wake: it is asked for on every notification. */
  profile(): User | null {
    if (this.#profile === undefined) {
      const row = this.sql.exec<{ username: string; name: string }>("SELECT username, name FROM account").toArray()[0];
      if (!row) return null;
      this.#profile = { username: row.username, name: row.name };
    }
    return this.#profile;
  }

  async signup(username: string, password: string, name: string): Promise<SignupResult> {
    if (this.profile()) return { ok: false, reason: "taken" };
    const h = await hashPassword(password);
    // The hash took a while with the input gate open: check again before writing.
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
    if (this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM login_failures").one().n >= LOGIN_FAILURES_ALLOWED) {
      return { ok: false, reason: "rate_limited" };
    }
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

  revoke(session: string): void {
    this.sql.exec("UPDATE sessions SET revoked = 1 WHERE id = ?", session);
  }
}
