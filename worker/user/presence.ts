/**
 * Presence of one user. I am online while I have an open inbox socket or any conversation object
 * holds a live lease for me (it has a socket of mine open). Leases expire by themselves, so a
 * conversation object that crashed without saying goodbye cannot keep me online for ever; they
 * are kept in memory and written a moment later (lease-book.ts).
 * `contacts` is what I was told of the people I share a conversation with, each with the version
 * of their own announcement, so that a late announcement never overwrites a newer one.
 */
import type { PresenceFrame } from "../../protocol";
import { WriteBehind } from "../write-behind";
import { FLUSH_DELAY_MS } from "./hit-window";
import { LeaseBook } from "./lease-book";
import type { PeerPresence, PresenceReport } from "./types";

/** A contact's state for my inboxes: with when they were last online, when offline and known. */
export function presenceFrame(c: PeerPresence): PresenceFrame {
  return !c.online && c.lastSeen ? { t: "presence", username: c.username, online: false, lastSeen: c.lastSeen } : { t: "presence", username: c.username, online: c.online };
}

/** My state as announced to my conversations. */
export interface PresenceState {
  online: boolean;
  /** An inbox of mine is open: my conversations tell me about their members. */
  watching: boolean;
  /** I have push subscriptions: my conversations tell me about new messages (7.6). */
  push: boolean;
}

/** The sessions with a socket open in some conversation; `unknown`: a lease that did not say. */
export interface LeasedSessions {
  sessions: ReadonlySet<string>;
  unknown: boolean;
}

export class Presence {
  /** Leases are read and changed in memory and written a moment later (lease-book.ts). */
  readonly leases: LeaseBook;
  /** The version every conversation took, whose `untold` flag is still to be cleared in storage. */
  #told: number | null = null;
  /** The stored flag as last read or written (null: not known yet). */
  #untold: boolean | null = null;
  /** Clears the flag when no lease write will carry it (offline: no renewal comes). */
  readonly #toldWrite = new WriteBehind<true>(FLUSH_DELAY_MS, () => this.#clearTold());

  /** Its tables are made by installUserSchema (install-schema.ts). */
  constructor(private readonly sql: SqlStorage) {
    this.leases = new LeaseBook(sql, () => this.#clearTold());
  }

  /** `sessions`: whose sockets are open there (undefined from objects that do not say). */
  setLease(conv: string, until: number, sessions?: readonly string[]): void {
    this.leases.set(conv, until, sessions);
  }

  /** Sessions with a socket open in a conversation, by the live leases. */
  leasedSessions(now: number): LeasedSessions {
    const sessions = new Set<string>();
    let unknown = false;
    for (const lease of this.leases.live(now)) {
      if (lease.sessions === null) unknown = true;
      else for (const s of lease.sessions) sessions.add(s);
    }
    return { sessions, unknown };
  }

  dropLease(conv: string): void {
    this.leases.drop(conv);
  }

  /** Forgets expired leases; returns the earliest expiry still ahead, if any. */
  sweep(now: number): number | null {
    return this.leases.sweep(now);
  }

  hasLease(now: number): boolean {
    for (const _ of this.leases.live(now)) return true;
    return false;
  }

  /** My state as last announced, with its version. */
  announced(): PresenceReport {
    const row = this.sql
      .exec<{ online: number; watching: number; push: number; version: number; last_seen: number | null }>("SELECT online, watching, push, version, last_seen FROM presence_state WHERE id = 1")
      .toArray()[0];
    const report: PresenceReport = { online: row?.online === 1, watching: row?.watching === 1, push: row?.push === 1, version: row?.version ?? 0 };
    if (!report.online && row?.last_seen) report.lastSeen = row.last_seen;
    return report;
  }

  /**
   * Records my state. When it differs from the one announced last, it gets the next version and
   * the new report is returned (it must be announced); otherwise null. Going offline stamps when
   * (`lastSeen`, kept until I am online again).
   */
  change(next: PresenceState, now = Date.now()): PresenceReport | null {
    const before = this.announced();
    if (before.online === next.online && before.watching === next.watching && before.push === next.push) return null;
    const report: PresenceReport = { ...next, version: before.version + 1 };
    // Offline since when: a change of something else while offline keeps the moment.
    if (!next.online) report.lastSeen = before.online ? now : (before.lastSeen ?? now);
    this.sql.exec(
      `INSERT INTO presence_state (id, online, watching, push, version, last_seen, untold) VALUES (1, ?, ?, ?, ?, ?, 1)
       ON CONFLICT (id) DO UPDATE SET online = excluded.online, watching = excluded.watching, push = excluded.push, version = excluded.version, last_seen = excluded.last_seen, untold = 1`,
      report.online ? 1 : 0, report.watching ? 1 : 0, report.push ? 1 : 0, report.version, report.lastSeen ?? null,
    );
    this.#untold = true;
    return report;
  }

  /** Whether some conversation may not have taken my last announced state (see `told`). */
  untold(): boolean {
    this.#untold ??= this.sql.exec<{ untold: number }>("SELECT untold FROM presence_state WHERE id = 1").toArray()[0]?.untold === 1;
    return this.#untold;
  }

  /**
   * Every conversation took `version`: its flag is cleared with the lease book's write when one is
   * due (the report that changed my state usually has one: a reconnect storm adds no commit), or
   * on its own a moment later. Not left for the next renewal's write: an object idle until then is
   * put out of memory first (after ten seconds, deployed as under `wrangler dev`), and the fresh
   * instance the renewal wakes finds the flag set and announces my state to every conversation
   * again, waking each (issue 17, BENCHMARKS.md, nineteenth session). Until the write, a fresh
   * instance announces the state once more, which versions make harmless.
   */
  told(version: number): void {
    // Already clear (an announcement made again, the same version): nothing to write.
    if (this.#untold === false) return;
    this.#told = version;
    if (!this.leases.writing()) this.#toldWrite.changed(true);
  }

  #clearTold(): void {
    if (this.#told === null) return;
    const cleared = this.sql.exec("UPDATE presence_state SET untold = 0 WHERE id = 1 AND untold = 1 AND version = ?", this.#told).rowsWritten > 0;
    // Left alone: a change since set it again for a newer version (read again when asked).
    this.#untold = cleared ? false : null;
    this.#told = null;
  }

  /**
   * Records what a contact's object announced, unless what I hold is newer; true when the state
   * shown changed. Nobody is online until told so: a first "offline" is no change.
   */
  setContact(c: PeerPresence, now: number): boolean {
    const before = this.sql.exec<{ online: number; version: number }>("SELECT online, version FROM contacts WHERE username = ?", c.username).toArray()[0];
    if (before && before.version > c.version) return false;
    const changed = (before?.online === 1) !== c.online;
    if (!changed && before?.version === c.version) return false;
    this.sql.exec(
      `INSERT INTO contacts (username, online, at, version) VALUES (?, ?, ?, ?)
       ON CONFLICT (username) DO UPDATE SET online = excluded.online, at = excluded.at, version = excluded.version`,
      c.username, c.online ? 1 : 0, now, c.version,
    );
    return changed;
  }

  /**
   * Rebuilds what I know of my contacts from my conversations' answers when an inbox opens after
   * none was (nothing kept it current meanwhile): each contact takes the newest state any of them
   * holds, and a contact no conversation mentions any more is shown offline. Returns the changes.
   */
  rebuildContacts(states: readonly PeerPresence[], me: string, now: number): PeerPresence[] {
    const newest = new Map<string, PeerPresence>();
    for (const s of states) {
      if (s.username === me) continue;
      const held = newest.get(s.username);
      if (!held || held.version < s.version) newest.set(s.username, s);
    }
    const changes: PeerPresence[] = [];
    for (const s of newest.values()) if (this.setContact(s, now)) changes.push(s);
    const known = this.sql.exec<{ username: string; version: number }>("SELECT username, version FROM contacts WHERE online = 1").toArray();
    for (const k of known) {
      if (newest.has(k.username)) continue;
      this.sql.exec("UPDATE contacts SET online = 0, at = ? WHERE username = ?", now, k.username);
      changes.push({ username: k.username, online: false, version: k.version });
    }
    return changes;
  }

  onlineContacts(): string[] {
    return this.sql.exec<{ username: string }>("SELECT username FROM contacts WHERE online = 1 ORDER BY username").toArray().map((r) => r.username);
  }
}
