/**
 * Presence of one user. I am online while I have an open inbox socket or any conversation object
 * holds a live lease for me (it has a socket of mine open). Leases expire by themselves, so a
 * conversation object that crashed without saying goodbye cannot keep me online for ever.
 * `contacts` is what I was told of the people I share a conversation with.
 */
import { PRESENCE_SCHEMA } from "./schema";

export class Presence {
  constructor(private readonly sql: SqlStorage) {
    for (const statement of PRESENCE_SCHEMA) sql.exec(statement);
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

  announced(): boolean {
    return (this.sql.exec<{ online: number }>("SELECT online FROM presence_state WHERE id = 1").toArray()[0]?.online ?? 0) === 1;
  }

  /** Records the state to announce; true when it differs from the last one announced. */
  change(online: boolean): boolean {
    if (this.announced() === online) return false;
    this.sql.exec(
      "INSERT INTO presence_state (id, online) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET online = excluded.online",
      online ? 1 : 0,
    );
    return true;
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

  onlineContacts(): string[] {
    return this.sql.exec<{ username: string }>("SELECT username FROM contacts WHERE online = 1 ORDER BY username").toArray().map((r) => r.username);
  }
}
