/**
 * The user's Web Push subscriptions (PROTOCOL.md 7.6): one row per browser endpoint, tied to the
 * session that registered it, so that signing that session out (or revoking it, or a password
 * change, or erasing the account) drops it. At most PUSH_SUBSCRIPTIONS_MAX per user: a new one
 * beyond that drops the oldest. The same endpoint registered again (a browser that subscribed
 * again, or signed in anew) replaces its row: one endpoint, one row, one session.
 */
import { PUSH_SUBSCRIPTIONS_MAX } from "../../protocol";
import type { CheckedSubscription } from "../push/subscription";

export const PUSH_SUBSCRIPTION_SCHEMA = [
  // origin: where the app was opened when it subscribed (the VAPID contact when none is configured).
  `CREATE TABLE IF NOT EXISTS push_subs (
     endpoint TEXT PRIMARY KEY,
     session TEXT NOT NULL,
     p256dh TEXT NOT NULL,
     auth TEXT NOT NULL,
     origin TEXT NOT NULL,
     created INTEGER NOT NULL
   )`,
  `CREATE INDEX IF NOT EXISTS push_subs_session ON push_subs (session)`,
];

export interface StoredSubscription extends CheckedSubscription {
  session: string;
  origin: string;
}

export class PushSubscriptions {
  /** Its table is made by installUserSchema (install-schema.ts). */
  constructor(private readonly sql: SqlStorage) {}

  /** Stores a subscription for `session`; returns the endpoints dropped to stay within the cap. */
  add(session: string, sub: CheckedSubscription, origin: string, now = Date.now()): string[] {
    // Strictly increasing, so that "oldest" is well defined within one millisecond too.
    const newest = this.sql.exec<{ m: number | null }>("SELECT max(created) AS m FROM push_subs").one().m ?? 0;
    this.sql.exec(
      `INSERT INTO push_subs (endpoint, session, p256dh, auth, origin, created) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (endpoint) DO UPDATE SET session = excluded.session, p256dh = excluded.p256dh,
         auth = excluded.auth, origin = excluded.origin, created = excluded.created`,
      sub.endpoint, session, sub.p256dh, sub.auth, origin, Math.max(now, newest + 1),
    );
    const dropped = this.sql
      .exec<{ endpoint: string }>("SELECT endpoint FROM push_subs ORDER BY created DESC LIMIT -1 OFFSET ?", PUSH_SUBSCRIPTIONS_MAX)
      .toArray()
      .map((r) => r.endpoint);
    for (const endpoint of dropped) this.remove(endpoint);
    return dropped;
  }

  /** True when there was such a subscription. */
  remove(endpoint: string): boolean {
    return this.sql.exec("DELETE FROM push_subs WHERE endpoint = ?", endpoint).rowsWritten > 0;
  }

  /** Drops every subscription of a session (signed out, revoked); returns their endpoints. */
  removeSession(session: string): string[] {
    return this.sql
      .exec<{ endpoint: string }>("DELETE FROM push_subs WHERE session = ? RETURNING endpoint", session)
      .toArray()
      .map((r) => r.endpoint);
  }

  removeAll(): void {
    this.sql.exec("DELETE FROM push_subs");
  }

  any(): boolean {
    return this.sql.exec("SELECT 1 FROM push_subs LIMIT 1").toArray().length > 0;
  }

  get(endpoint: string): StoredSubscription | null {
    return this.#rows("WHERE endpoint = ?", endpoint)[0] ?? null;
  }

  /** Every subscription, oldest first. */
  all(): StoredSubscription[] {
    return this.#rows("ORDER BY created");
  }

  #rows(where: string, ...bindings: SqlStorageValue[]): StoredSubscription[] {
    return this.sql
      .exec<{ endpoint: string; session: string; p256dh: string; auth: string; origin: string }>(
        `SELECT endpoint, session, p256dh, auth, origin FROM push_subs ${where}`, ...bindings,
      )
      .toArray()
      .map((r) => ({ endpoint: r.endpoint, session: r.session, p256dh: r.p256dh, auth: r.auth, origin: r.origin }));
  }
}
