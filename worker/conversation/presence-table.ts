/**
 * Members' presence as their own user objects announced it, with the version each announcement
 * carries. A user object stamps every announcement with a number that only grows, so an
 * announcement that arrives late (calls travel over separate stubs with no order between them)
 * is recognised as older than what is held and ignored: a page reload's "offline" can never
 * overwrite the "online" that followed it.
 *
 * The table is read once per wake and then mirrored beside it: every announcement reads it, and
 * each notification round and presence fan-out asks who watches.
 *
 * A change of whom to notify (`watching`, `push`) is written at once. A change of `online` alone
 * (what a member coming back, or leaving, announces to every conversation of theirs) waits up to
 * SAVE_DELAY_MS and is written together with the others that came meanwhile (write-behind.ts):
 * a reconnect storm announced a thousand of them, each its own SQLite commit on the thread every
 * object shares (issue 17, BENCHMARKS.md). The member's object is answered only once the row is written
 * (`saved()`), so an answer never promises what a crash can still lose: a failed call is told
 * again by the member's object (watch.ts).
 */
import { WriteBehind } from "../write-behind";
import type { ConversationStore } from "./store";

export interface Announced {
  online: boolean;
  /** An inbox of the member's is open: presence changes and activity here are worth sending. */
  watching: boolean;
  /** v1.1 (7.6): the member has push subscriptions: activity here is worth sending, too. */
  push?: boolean;
  version: number;
  /** Offline: when they were last online, as their object announced it. */
  lastSeen?: number;
}

/** How long a change of `online` alone waits to be written with the others. */
export const SAVE_DELAY_MS = 500;

export const PRESENCE_TABLE_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS presence (username TEXT PRIMARY KEY, online INTEGER NOT NULL, watching INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0, push INTEGER NOT NULL DEFAULT 0)`,
];

export class PresenceTable {
  #rows: Map<string, Announced> | undefined;
  /** Members whose row in memory is newer than the stored one. */
  readonly #writes = new WriteBehind<string>(SAVE_DELAY_MS, (usernames) => this.#write(usernames));

  constructor(
    private readonly sql: SqlStorage,
    private readonly store: ConversationStore,
  ) {
    // A transaction that rolled back may have held a write of ours: write every row again (the
    // announcements themselves stand; they were not part of what rolled back).
    store.onRollback(() => {
      for (const username of this.#rows?.keys() ?? []) this.#writes.changed(username);
    });
  }

  #table(): Map<string, Announced> {
    this.#rows ??= new Map(
      this.sql
        .exec<{ username: string; online: number; watching: number; push: number; version: number; last_seen: number | null }>("SELECT username, online, watching, push, version, last_seen FROM presence")
        .toArray()
        .map((r) => [r.username, { online: r.online === 1, watching: r.watching === 1, push: r.push === 1, version: r.version, ...(r.last_seen ? { lastSeen: r.last_seen } : {}) }]),
    );
    return this.#rows;
  }

  get(username: string): Announced | undefined {
    return this.#table().get(username);
  }

  /**
   * Records an announcement unless one at least as new is held. Returns what was held before
   * (undefined when nothing was), or null when the announcement is stale and was ignored.
   */
  apply(username: string, next: Announced): Announced | undefined | null {
    const table = this.#table();
    const before = table.get(username);
    if (before && before.version > next.version) return null;
    const push = next.push === true;
    if (before && before.version === next.version && before.online === next.online && before.watching === next.watching && (before.push === true) === push) return before;
    table.set(username, { online: next.online, watching: next.watching, push, version: next.version, ...(next.lastSeen ? { lastSeen: next.lastSeen } : {}) });
    this.#writes.changed(username);
    // Whom to notify is written at once; who is online, a moment later with the others.
    if ((before?.watching ?? false) !== next.watching || (before?.push === true) !== push) this.#writes.flush();
    return before;
  }

  /** Settles once every row applied so far is written. */
  saved(): Promise<void> {
    return this.#writes.saved();
  }

  #write(usernames: ReadonlySet<string>): void {
    for (const username of usernames) {
      const p = this.#rows?.get(username);
      if (!p) continue;
      this.sql.exec(
        `INSERT INTO presence (username, online, watching, push, version, last_seen) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (username) DO UPDATE SET online = excluded.online, watching = excluded.watching, push = excluded.push, version = excluded.version, last_seen = excluded.last_seen`,
        username, p.online ? 1 : 0, p.watching ? 1 : 0, p.push === true ? 1 : 0, p.version, p.lastSeen ?? null,
      );
    }
  }

  /** Active members whose state matches `pick`. */
  members(pick: (p: Announced) => boolean): string[] {
    const out: string[] = [];
    for (const [username, p] of this.#table()) if (pick(p) && this.store.isMember(username)) out.push(username);
    return out;
  }

  /** Members with an inbox open: the only ones told about presence changes. */
  watchers(): string[] {
    return this.members((p) => p.watching);
  }

  /**
   * Members told about new messages: those with an inbox open, and (v1.1, 7.6) those with push
   * subscriptions, whose objects decide per device whether to push.
   */
  recipients(): string[] {
    return this.members((p) => p.watching || p.push === true);
  }
}
