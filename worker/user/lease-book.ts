/**
 * The presence leases my conversations hold for me (one per conversation where I have a socket
 * open), kept in memory and written to storage a moment later, never on a report's own path.
 *
 * A conversation reports when my first socket there opens, when my last one ends, when a session
 * appears or leaves, and renews every heartbeat. Written on every report, a reconnect storm (every
 * socket of every user back at once after a deploy) cost one SQLite commit per socket in the
 * user objects, each an fsync on a disk that holds the one thread all objects share under
 * `wrangler dev` (issue 17, BENCHMARKS.md). Now the leases live in memory while the object is
 * awake, loaded from their table on first use, and what changed is written together at most
 * FLUSH_DELAY_MS later (write-behind.ts).
 *
 * A lease is soft state: it expires by itself and its conversation renews it every heartbeat,
 * well before it would. So what a crash can lose (the last FLUSH_DELAY_MS of reports) is repaired
 * by the next renewal: a lost new lease comes back with it, a lost extension only shortens a
 * lease that is renewed before it ends, and a lost drop keeps a lease at most until it expires,
 * as for a conversation that crashed without saying goodbye.
 */
import { WriteBehind } from "../write-behind";
import { FLUSH_DELAY_MS } from "./hit-window";

export interface Lease {
  until: number;
  /** Whose sockets are open there; null from objects that do not say. */
  sessions: readonly string[] | null;
}

export class LeaseBook {
  /** Every lease by conversation (null until loaded from storage). */
  #leases: Map<string, Lease> | null = null;
  /** Conversations whose lease changed (or went) since the last write. */
  readonly #writes = new WriteBehind<string>(FLUSH_DELAY_MS, (convs) => this.#write(convs));

  /** `alsoWrite`: runs in every write, in the same commit (presence.ts clears a flag with it). */
  constructor(
    private readonly sql: SqlStorage,
    private readonly alsoWrite: () => void = () => {},
  ) {}

  set(conv: string, until: number, sessions?: readonly string[]): void {
    this.#all().set(conv, { until, sessions: sessions ? [...sessions] : null });
    this.#writes.changed(conv);
  }

  drop(conv: string): void {
    if (this.#all().delete(conv)) this.#writes.changed(conv);
  }

  /** The leases that have not expired at `now`. */
  *live(now: number): Iterable<Lease> {
    for (const lease of this.#all().values()) if (lease.until > now) yield lease;
  }

  /** Whether `conv` holds a lease that has not expired at `now`. */
  holds(conv: string, now: number): boolean {
    return (this.#all().get(conv)?.until ?? 0) > now;
  }

  /** Forgets expired leases; returns the earliest expiry still ahead, if any. */
  sweep(now: number): number | null {
    let earliest: number | null = null;
    for (const [conv, lease] of this.#all()) {
      if (lease.until <= now) this.drop(conv);
      else if (earliest === null || lease.until < earliest) earliest = lease.until;
    }
    return earliest;
  }

  /** Whether a write is due: what `alsoWrite` adds goes with it. */
  writing(): boolean {
    return this.#writes.pending;
  }

  /** Writes the leases that changed since the last write, now. */
  flush(): void {
    this.#writes.flush();
  }

  #write(convs: ReadonlySet<string>): void {
    this.alsoWrite();
    for (const conv of convs) {
      const lease = this.#leases?.get(conv);
      if (!lease) this.sql.exec("DELETE FROM presence_leases WHERE conv = ?", conv);
      else {
        this.sql.exec(
          "INSERT INTO presence_leases (conv, until, sessions) VALUES (?, ?, ?) ON CONFLICT (conv) DO UPDATE SET until = excluded.until, sessions = excluded.sessions",
          conv, lease.until, lease.sessions ? JSON.stringify(lease.sessions) : null,
        );
      }
    }
  }

  #all(): Map<string, Lease> {
    if (this.#leases === null) {
      this.#leases = new Map();
      for (const row of this.sql.exec<{ conv: string; until: number; sessions: string | null }>("SELECT conv, until, sessions FROM presence_leases")) {
        const list: unknown = row.sessions === null ? null : JSON.parse(row.sessions);
        const sessions = Array.isArray(list) ? list.filter((s): s is string => typeof s === "string") : null;
        this.#leases.set(row.conv, { until: row.until, sessions });
      }
    }
    return this.#leases;
  }
}
