/**
 * Presence of one user. I am online while I have an open inbox socket or any conversation object
 * holds a live lease for me (it has a socket of mine open). Leases expire by themselves, so a
 * conversation object that crashed without saying goodbye cannot keep me online for ever.
 * `contacts` is what I was told of the people I share a conversation with.
 */
import { addMissingColumns } from "../schema-columns";
import { PRESENCE_COLUMNS, PRESENCE_SCHEMA } from "./schema";

/** My state as announced to my conversations. */
export interface PresenceState {
  online: boolean;
  /** An inbox of mine is open: my conversations tell me about their members. */
  watching: boolean;
}

export class Presence {
  constructor(private readonly sql: SqlStorage) {
    for (const statement of PRESENCE_SCHEMA) sql.exec(statement);
    addMissingColumns(sql, PRESENCE_COLUMNS);
  }

  setLease(conv: string, until: number): void {
    this.sql.exec(
      "INSERT INTO presence_leases (conv, until) VALUES (?, ?) ON CONFLICT (conv) DO UPDATE SET until = excluded.until",
      conv, until,
    );
  }

  dropLease(conv: string): void {
    this.sql.exec("DELETE FROM presence_leases WHERE conv = ?", conv);
  }

  /** Forgets expired leases; returns the earliest expiry still ahead, if any. */
  sweep(now: number): number | null {
    this.sql.exec("DELETE FROM presence_leases WHERE until <= ?", now);
    return this.sql.exec<{ m: number | null }>("SELECT min(until) AS m FROM presence_leases").one().m;
  }

  hasLease(now: number): boolean {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM presence_leases WHERE until > ?", now).one().n > 0;
  }

  announced(): PresenceState {
    const row = this.sql.exec<{ online: number; watching: number }>("SELECT online, watching FROM presence_state WHERE id = 1").toArray()[0];
    return { online: row?.online === 1, watching: row?.watching === 1 };
  }

  /** Records the state to announce; what changed since the last one announced, or null. */
  change(next: PresenceState): { online: boolean; watching: boolean } | null {
    const before = this.announced();
    const changed = { online: before.online !== next.online, watching: before.watching !== next.watching };
    if (!changed.online && !changed.watching) return null;
    this.sql.exec(
      `INSERT INTO presence_state (id, online, watching) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET online = excluded.online, watching = excluded.watching`,
      next.online ? 1 : 0, next.watching ? 1 : 0,
    );
    return changed;
  }

  /** Records a contact's state; true when it changed. */
  setContact(username: string, online: boolean, now: number): boolean {
    const before = this.sql.exec<{ online: number }>("SELECT online FROM contacts WHERE username = ?", username).toArray()[0];
    // Nobody is online until told so: a first "offline" is no change.
    if ((before?.online === 1) === online) return false;
    this.sql.exec(
      "INSERT INTO contacts (username, online, at) VALUES (?, ?, ?) ON CONFLICT (username) DO UPDATE SET online = excluded.online, at = excluded.at",
      username, online ? 1 : 0, now,
    );
    return true;
  }

  /**
   * Replaces what I know of my contacts with who is online now (asked of my conversations when an
   * inbox opens after none was): returns the contacts whose state changed.
   */
  replaceContacts(online: ReadonlySet<string>, me: string, now: number): { username: string; online: boolean }[] {
    const known = this.sql.exec<{ username: string }>("SELECT username FROM contacts").toArray().map((r) => r.username);
    const changes: { username: string; online: boolean }[] = [];
    for (const username of new Set([...known, ...online])) {
      if (username === me) continue;
      const state = online.has(username);
      if (this.setContact(username, state, now)) changes.push({ username, online: state });
    }
    return changes;
  }

  onlineContacts(): string[] {
    return this.sql.exec<{ username: string }>("SELECT username FROM contacts WHERE online = 1 ORDER BY username").toArray().map((r) => r.username);
  }
}
