/**
 * How many more sockets a session that already has one open in this conversation may open without
 * its user object being asked (ConversationObject.admission). Those upgrades skip the session's
 * request budget, which lives in the user object, so they get a small one of their own: past it,
 * every upgrade is checked and counted there as before. Kept in memory only: a restart closes the
 * sockets that make a session eligible, so nothing is lost with it.
 */

/** Upgrades per session per window that skip the call; a tab reconnecting with backoff needs a few. */
export const QUICK_ADMITS_PER_WINDOW = 20;
export const QUICK_ADMIT_WINDOW_MS = 60_000;
/** Windows kept before stale ones are dropped (one per session seen lately). */
const KEPT = 256;

export class QuickAdmits {
  readonly #windows = new Map<string, { since: number; taken: number }>();

  /** True if `session` may open one more socket without a call now (and counts it). */
  take(session: string, now: number): boolean {
    let w = this.#windows.get(session);
    if (!w || now - w.since >= QUICK_ADMIT_WINDOW_MS) {
      if (this.#windows.size >= KEPT) this.#prune(now);
      w = { since: now, taken: 0 };
      this.#windows.set(session, w);
    }
    if (w.taken >= QUICK_ADMITS_PER_WINDOW) return false;
    w.taken++;
    return true;
  }

  #prune(now: number): void {
    for (const [session, w] of this.#windows) if (now - w.since >= QUICK_ADMIT_WINDOW_MS) this.#windows.delete(session);
  }
}
