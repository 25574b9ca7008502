/**
 * Sessions a member's object said were live a moment ago, as this conversation heard it: in the
 * answer that admitted a socket, and in each lease renewal's answer (which names the sessions
 * signed out since). A socket of such a session that opens again within one heartbeat interval
 * is admitted without asking again (ConversationObject.admission), within QuickAdmits' allowance.
 *
 * Why it is safe: every sign-out reaches every conversation of the member (UserObject.revokeSession
 * calls closeSession on each, which forgets the session here, in storage too before it answers),
 * and a call of those that was lost is repaired by the next lease renewal, whose answer names the
 * session and closes its sockets. So a signed-out session gets in only when that close was lost,
 * and then for at most a heartbeat interval: the quick admits of a session holding a socket here
 * already rested on the same two repairs.
 *
 * Kept in storage as well as in memory (checked-sessions-table.ts), because the moment it matters
 * most is after a restart: a deploy closes every socket and starts every object afresh, and each
 * socket that comes back would otherwise cost a call to its member's object while every object is
 * cold (issue 17, BENCHMARKS.md). What was written a moment late is at worst a call more.
 */

/** Sessions remembered at most; past it the stale ones go, then the oldest. */
export const CHECKED_SESSIONS_KEPT = 1024;

export interface CheckedEntry {
  user: string;
  /** Counts as checked until then (ms since the epoch). */
  until: number;
}

/** Where the entries are kept between wakes. */
export interface CheckedStorage {
  /** The entries stored (stale ones included), oldest first; read once, on first use. */
  load(): [string, CheckedEntry][];
  /** `session`'s entry changed or went: stored a moment later with the others. */
  later(session: string): void;
  /** A session signed out, or every session of an account erased: removed before the caller answers. */
  removeNow(what: { session: string } | { user: string }): void;
}

export class CheckedSessions {
  /** By session: whose it is and until when it counts as checked; oldest first. */
  #until: Map<string, CheckedEntry> | undefined;

  constructor(
    private readonly windowMs: () => number,
    private readonly storage: CheckedStorage | null = null,
  ) {}

  #entries(): Map<string, CheckedEntry> {
    if (this.#until) return this.#until;
    const now = Date.now();
    const rows = this.storage?.load() ?? [];
    // Oldest first: the newest fresh ones are kept; the stale and those past the bound leave
    // storage too.
    const fresh = rows.filter(([, entry]) => entry.until > now);
    const kept = new Map(fresh.slice(Math.max(0, fresh.length - CHECKED_SESSIONS_KEPT)));
    for (const [session] of rows) if (!kept.has(session)) this.storage?.later(session);
    this.#until = kept;
    return kept;
  }

  /** The entry of `session` held now (what storage writes). */
  entry(session: string): CheckedEntry | undefined {
    return this.#entries().get(session);
  }

  /** The member's object said `session` (of `user`) was live at `now`. */
  checked(user: string, session: string, now: number): void {
    const entries = this.#entries();
    entries.delete(session); // re-inserted last: the map's order is then oldest first
    if (entries.size >= CHECKED_SESSIONS_KEPT) this.#prune(now);
    entries.set(session, { user, until: now + this.windowMs() });
    this.storage?.later(session);
  }

  /** Whether `session` of `user` was said to be live within the window. */
  live(user: string, session: string, now: number): boolean {
    const seen = this.#entries().get(session);
    return seen !== undefined && seen.user === user && seen.until > now;
  }

  /** The session was signed out (or said to be): asked about again next time. */
  forget(session: string): void {
    this.#entries().delete(session);
    // Removed from storage even when not held in memory: a row a lost write left behind must not
    // vouch for it after the next wake.
    this.storage?.removeNow({ session });
  }

  /** Every session of `user` (an account erased): asked about again next time. */
  forgetUser(user: string): void {
    const entries = this.#entries();
    for (const [session, seen] of entries) if (seen.user === user) entries.delete(session);
    this.storage?.removeNow({ user });
  }

  #prune(now: number): void {
    const entries = this.#entries();
    for (const [session, seen] of entries) {
      if (seen.until > now) continue;
      entries.delete(session);
      this.storage?.later(session);
    }
    // All still fresh: the oldest go, which costs them a call at most.
    for (const session of entries.keys()) {
      if (entries.size < CHECKED_SESSIONS_KEPT) break;
      entries.delete(session);
      this.storage?.later(session);
    }
  }
}
