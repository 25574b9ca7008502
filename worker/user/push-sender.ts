/**
 * Deciding and sending Web Push (PROTOCOL.md 7.6) in the user's object. A conversation tells my
 * object about new messages (its notifier, at least once, off the send path) while an inbox of
 * mine is open or I have subscriptions; for each batch this decides, per subscription, whether
 * to push:
 *
 * - only a message from someone else, not deleted, not read, in a conversation I did not mute,
 *   newer than any message already considered for it (`push_seen`: a batch delivered twice, or a
 *   late one, pushes nothing again);
 * - only to a subscription whose session has no socket open at that moment, inbox or
 *   conversation (inbox sockets are here; conversation sockets by their leases, which name
 *   their sessions), and is still signed in.
 *
 * A push to send is a row of `push_outbox`, one per subscription and conversation: a burst
 * coalesces into that row (the newest message wins), and the push's `Topic` makes the push
 * service replace one it still holds. Rows are sent at once, each on its own (a push service that
 * never answers holds up nothing but its own row, and never an `ack`: nothing here is on the
 * message path); before each attempt the row is checked again (the device came back, the message
 * was read, the conversation muted: it goes). 2xx: done. 404/410: the subscription is dead and
 * goes. 429, 5xx, a network failure or no answer: tried again later from the alarm, with
 * exponential backoff (and the service's Retry-After), until a day has passed. Anything else
 * (400, 403, 413): that push cannot succeed; it goes.
 *
 * A row is deleted only once its attempt has an outcome, so an object reset mid-push sends it
 * again (at least once; the Topic makes a repeat replace, not add).
 */
import { PUSH_TTL_SECONDS, type PushPayload } from "../../protocol";
import { vapidKeys } from "../push/keys";
import { buildPushRequest, topicOf, type Urgency } from "../push/request";
import type { ConversationIndex } from "./conversations";
import type { LeasedSessions } from "./presence";
import type { PushSubscriptions } from "./push-subscriptions";
import type { ActivityBatch } from "./types";

/** An attempt that has no answer after this long counts as failed (and is tried again). */
export const PUSH_TIMEOUT_MS = 10_000;
/** The first retry waits this long, doubling each time up to PUSH_RETRY_MAX_MS. */
export const PUSH_RETRY_BASE_MS = 30_000;
export const PUSH_RETRY_MAX_MS = 3_600_000;
/** Rows started at once (the rest wait for the next kick). */
const PUSH_BATCH = 50;

export const PUSH_SENDER_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS push_outbox (
     endpoint TEXT NOT NULL,
     conv TEXT NOT NULL,
     seq INTEGER NOT NULL,
     payload TEXT NOT NULL,
     urgency TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     due INTEGER NOT NULL,
     created INTEGER NOT NULL,
     PRIMARY KEY (endpoint, conv)
   )`,
  `CREATE INDEX IF NOT EXISTS push_outbox_due ON push_outbox (due)`,
  // The newest message already considered for a push, per conversation.
  `CREATE TABLE IF NOT EXISTS push_seen (conv TEXT PRIMARY KEY, seq INTEGER NOT NULL)`,
];

interface OutboxRow extends Record<string, SqlStorageValue> {
  endpoint: string;
  conv: string;
  seq: number;
  payload: string;
  urgency: string;
  attempts: number;
  created: number;
}

export interface PushSenderHooks {
  env: Env;
  ctx: DurableObjectState;
  subs: PushSubscriptions;
  index: ConversationIndex;
  /** Sessions with a socket open now: inbox sockets here, conversation sockets by lease. */
  looking: () => LeasedSessions;
  live: (session: string) => boolean;
  previews: () => boolean;
  /** A subscription was dropped as dead: what I announce may change. */
  subsChanged: () => void;
  /** Come back (the alarm) by `at`. */
  wake: (at: number) => void;
}

/** The wait before attempt `attempts + 1`: doubling, a fifth of jitter, at least what Retry-After asks. */
export function retryDelayMs(attempts: number, retryAfter: string | null, random = Math.random()): number {
  const backoff = Math.min(PUSH_RETRY_MAX_MS, PUSH_RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
  const jittered = backoff * (0.9 + 0.2 * random);
  const asked = retryAfter !== null && /^\d{1,7}$/.test(retryAfter.trim()) ? Math.min(PUSH_RETRY_MAX_MS, Number(retryAfter) * 1000) : 0;
  return Math.round(Math.max(jittered, asked));
}

type Outcome = "sent" | "gone" | "retry" | "refused";

export function outcomeOf(status: number): Outcome {
  if (status >= 200 && status < 300) return "sent";
  if (status === 404 || status === 410) return "gone";
  if (status === 0 || status === 429 || status >= 500) return "retry";
  return "refused";
}

export class PushSender {
  /** Attempts under way, by `endpoint conv` (in memory: after a restart nothing is under way). */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly h: PushSenderHooks,
  ) {}

  /** New messages in one of my conversations: decides what to push (see the top of the file). */
  consider(me: string, batch: ActivityBatch): void {
    const conv = batch.conv;
    for (const d of batch.deleted) this.sql.exec("DELETE FROM push_outbox WHERE conv = ? AND seq = ?", conv, d.target);
    const seen = this.sql.exec<{ seq: number }>("SELECT seq FROM push_seen WHERE conv = ?", conv).toArray()[0]?.seq ?? 0;
    const top = batch.items.reduce((m, i) => Math.max(m, i.seq), 0);
    if (top <= seen) return;
    this.sql.exec("INSERT INTO push_seen (conv, seq) VALUES (?, ?) ON CONFLICT (conv) DO UPDATE SET seq = max(seq, excluded.seq)", conv, top);
    const summary = this.h.index.summary(conv);
    if (!summary || summary.muted) return;
    const item = batch.items.findLast((i) => i.seq > seen && !i.deleted && i.from !== me && i.seq > summary.readSeq);
    if (!item) return;
    const subs = this.h.subs.all();
    if (subs.length === 0) return;
    const looking = this.h.looking();
    if (looking.unknown) return;
    const name = item.name ?? item.from;
    const payload: PushPayload = {
      conv, seq: item.seq, from: name,
      title: summary.kind === "dm" ? name : summary.title,
      preview: this.h.previews() ? item.preview : "",
    };
    const urgency: Urgency = summary.kind === "dm" ? "high" : "normal";
    const now = Date.now();
    let queued = false;
    let expired = false;
    for (const sub of subs) {
      if (!this.h.live(sub.session)) {
        // Its session ran out (30 days unused): the subscription goes with it, as at a logout.
        this.h.subs.remove(sub.endpoint);
        expired = true;
        continue;
      }
      if (looking.sessions.has(sub.session)) continue;
      // A row already waiting (in backoff) keeps its time and count: the newer message replaces its payload.
      this.sql.exec(
        `INSERT INTO push_outbox (endpoint, conv, seq, payload, urgency, attempts, due, created) VALUES (?, ?, ?, ?, ?, 0, ?, ?)
         ON CONFLICT (endpoint, conv) DO UPDATE SET seq = excluded.seq, payload = excluded.payload, urgency = excluded.urgency,
           created = excluded.created WHERE excluded.seq > push_outbox.seq`,
        sub.endpoint, conv, item.seq, JSON.stringify(payload), urgency, now, now,
      );
      queued = true;
    }
    if (expired) this.h.subsChanged();
    if (queued) this.kick();
  }

  /** I read `conv` up to `seq` somewhere: nothing up to it needs pushing any more. */
  read(conv: string, seq: number): void {
    this.sql.exec("DELETE FROM push_outbox WHERE conv = ? AND seq <= ?", conv, seq);
  }

  /** I left `conv`. */
  forget(conv: string): void {
    this.sql.exec("DELETE FROM push_outbox WHERE conv = ?", conv);
    this.sql.exec("DELETE FROM push_seen WHERE conv = ?", conv);
  }

  /** Subscriptions went (a session signed out, the account erased): their rows go too. */
  dropEndpoints(endpoints: readonly string[]): void {
    for (const e of endpoints) this.sql.exec("DELETE FROM push_outbox WHERE endpoint = ?", e);
  }

  clear(): void {
    this.sql.exec("DELETE FROM push_outbox");
    this.sql.exec("DELETE FROM push_seen");
  }

  /** Pushes under way (tests wait for none). */
  busy(): number {
    return this.#inFlight.size;
  }

  /** Whether any push waits to be sent or retried (the alarm is then still wanted). */
  waiting(): boolean {
    return this.#inFlight.size > 0 || this.sql.exec("SELECT 1 FROM push_outbox LIMIT 1").toArray().length > 0;
  }

  /**
   * Starts every due row not already under way (not waited on), and sets the alarm for the next
   * row that waits. Called on new rows, after each attempt, and by the alarm.
   */
  kick(): void {
    const now = Date.now();
    const due = this.sql
      .exec<OutboxRow>("SELECT endpoint, conv, seq, payload, urgency, attempts, created FROM push_outbox WHERE due <= ? ORDER BY due LIMIT ?", now, PUSH_BATCH + this.#inFlight.size)
      .toArray();
    for (const row of due) {
      const key = `${row.endpoint} ${row.conv}`;
      if (this.#inFlight.has(key)) continue;
      const attempt = this.#attempt(row)
        .catch(() => this.#retryLater(row, null))
        .catch(() => {})
        .then(() => {
          this.#inFlight.delete(key);
          this.kick();
        })
        // Only when the object is going away (storage gone): the alarm starts over after a restart.
        .catch(() => {});
      this.#inFlight.set(key, attempt);
      this.h.ctx.waitUntil(attempt);
    }
    const next = this.sql.exec<{ m: number | null }>("SELECT min(due) AS m FROM push_outbox WHERE due > ?", now).one().m;
    if (next !== null) this.h.wake(next);
  }

  async #attempt(row: OutboxRow): Promise<void> {
    const sub = this.h.subs.get(row.endpoint);
    const summary = this.h.index.summary(row.conv);
    const looking = this.h.looking();
    // Still worth it? The device may have come back, the message been read, the conversation muted.
    if (!sub || !summary || summary.muted || summary.readSeq >= row.seq || looking.unknown || looking.sessions.has(sub.session) || !this.h.live(sub.session)) {
      this.#done(row);
      return;
    }
    let status = 0;
    let retryAfter: string | null = null;
    try {
      const keys = await vapidKeys(this.h.env);
      const subject = /^(mailto:|https:)/.test(this.h.env.VAPID_SUBJECT ?? "") ? this.h.env.VAPID_SUBJECT : sub.origin;
      const request = await buildPushRequest(sub, JSON.parse(row.payload) as PushPayload, {
        keys, subject, urgency: row.urgency === "high" ? "high" : "normal", topic: await topicOf(row.conv),
      });
      const res = await fetch(request.url, { ...request.init, signal: AbortSignal.timeout(PUSH_TIMEOUT_MS) });
      status = res.status;
      retryAfter = res.headers.get("Retry-After");
      await res.body?.cancel();
    } catch {
      // No answer, or no connection: tried again (status 0).
    }
    const outcome = outcomeOf(status);
    if (outcome === "sent") this.#done(row);
    else if (outcome === "gone") {
      this.h.subs.remove(row.endpoint);
      this.dropEndpoints([row.endpoint]);
      this.h.subsChanged();
    } else if (outcome === "refused") {
      // Only the status: the endpoint is a capability URL.
      console.warn(`push refused with status ${status}`);
      this.#done(row);
    } else this.#retryLater(row, retryAfter);
  }

  #retryLater(row: OutboxRow, retryAfter: string | null): void {
    const attempts = row.attempts + 1;
    const at = Date.now() + retryDelayMs(attempts, retryAfter);
    // Past the push's own lifetime it would be dropped by the service anyway.
    if (at - row.created > PUSH_TTL_SECONDS * 1000) this.#done(row);
    else this.sql.exec("UPDATE push_outbox SET attempts = ?, due = ? WHERE endpoint = ? AND conv = ? AND seq = ?", attempts, at, row.endpoint, row.conv, row.seq);
  }

  /** The row's attempt is over; a newer message that replaced its payload meanwhile stays. */
  #done(row: OutboxRow): void {
    this.sql.exec("DELETE FROM push_outbox WHERE endpoint = ? AND conv = ? AND seq = ?", row.endpoint, row.conv, row.seq);
  }
}
