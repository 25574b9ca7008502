/**
 * Sessions a member's object said were live a moment ago, as this conversation heard it: in the
 * answer that admitted a socket, and in each lease renewal's answer (which names the sessions
 * signed out since). A socket of such a session that opens again within one heartbeat interval
 * is admitted without asking again (ConversationObject.admission), within QuickAdmits' allowance.
 *
 * Why it is safe: every sign-out reaches every conversation of the member (UserObject.revokeSession
 * calls closeSession on each, which forgets the session here), and a call of those that was lost
 * is repaired by the next lease renewal, whose answer names the session and closes its sockets.
 * So a signed-out session gets in only when that close was lost, and then for at most a heartbeat
 * interval: the quick admits of a session holding a socket here already rested on the same two
 * repairs. Kept in memory only: after a restart every session is asked about again.
 */

/** Sessions remembered at most; past it the stale ones go, then the oldest. */
const KEPT = 1024;

export class CheckedSessions {
  /** By session: whose it is and until when it counts as checked. */
  readonly #until = new Map<string, { user: string; until: number }>();

  constructor(private readonly windowMs: () => number) {}

  /** The member's object said `session` (of `user`) was live at `now`. */
  checked(user: string, session: string, now: number): void {
    this.#until.delete(session); // re-inserted last: the map's order is then oldest first
    if (this.#until.size >= KEPT) this.#prune(now);
    this.#until.set(session, { user, until: now + this.windowMs() });
  }

  /** Whether `session` of `user` was said to be live within the window. */
  live(user: string, session: string, now: number): boolean {
    const seen = this.#until.get(session);
    return seen !== undefined && seen.user === user && seen.until > now;
  }

  /** The session was signed out (or said to be): asked about again next time. */
  forget(session: string): void {
    this.#until.delete(session);
  }

  /** Every session of `user` (an account erased): asked about again next time. */
  forgetUser(user: string): void {
    for (const [session, seen] of this.#until) if (seen.user === user) this.#until.delete(session);
  }

  #prune(now: number): void {
    for (const [session, seen] of this.#until) if (seen.until <= now) this.#until.delete(session);
    // All still fresh: the oldest go, which costs them a call at most.
    for (const session of this.#until.keys()) {
      if (this.#until.size < KEPT) break;
      this.#until.delete(session);
    }
  }
}
