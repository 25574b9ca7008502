/**
 * Storage for CheckedSessions (checked-sessions.ts): a row per session a member's object vouched
 * for lately, bounded like the map in memory. A new check (each admission's call, each lease
 * renewal's answer, every heartbeat interval per member with a socket here) is written a moment
 * later with the others, in one commit; a sign-out's removal is written at once, so the answer to
 * the call that signed it out leaves only once no restart can bring the session back.
 */
import { WriteBehind } from "../write-behind";
import type { CheckedEntry, CheckedStorage } from "./checked-sessions";

export const CHECKED_SESSIONS_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS checked_sessions (session TEXT PRIMARY KEY, username TEXT NOT NULL, until INTEGER NOT NULL)`,
];

/** How long a new check waits to be written with the others. */
export const CHECK_SAVE_DELAY_MS = 500;

export class CheckedSessionsTable implements CheckedStorage {
  readonly #writes = new WriteBehind<string>(CHECK_SAVE_DELAY_MS, (sessions) => this.#write(sessions));

  /** `entryOf` reads the entry held in memory when the write comes. */
  constructor(
    private readonly sql: SqlStorage,
    private readonly entryOf: (session: string) => CheckedEntry | undefined,
  ) {}

  load(): [string, CheckedEntry][] {
    try {
      return this.sql
        .exec<{ session: string; username: string; until: number }>("SELECT session, username, until FROM checked_sessions ORDER BY until")
        .toArray()
        .map((r) => [r.session, { user: r.username, until: r.until }]);
    } catch {
      return []; // no table (see removeNow)
    }
  }

  later(session: string): void {
    this.#writes.changed(session);
  }

  removeNow(what: { session: string } | { user: string }): void {
    try {
      if ("session" in what) this.#delete(what.session);
      else this.sql.exec("DELETE FROM checked_sessions WHERE username = ?", what.user);
    } catch {
      // No table: a made-up id or an erased room, which vouches for nobody.
    }
  }

  #write(sessions: ReadonlySet<string>): void {
    for (const session of sessions) {
      const entry = this.entryOf(session);
      if (entry) {
        this.sql.exec(
          `INSERT INTO checked_sessions (session, username, until) VALUES (?, ?, ?)
           ON CONFLICT (session) DO UPDATE SET username = excluded.username, until = excluded.until`,
          session, entry.user, entry.until,
        );
      } else this.#delete(session);
    }
  }

  #delete(session: string): void {
    this.sql.exec("DELETE FROM checked_sessions WHERE session = ?", session);
  }
}
