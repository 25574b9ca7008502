/**
 * Telling watching members' user objects (those with an inbox open) about new messages, off the
 * send path. One round at a time takes
 * every event since the last round (so a burst of sends becomes one call per member) and calls the
 * members in parallel. A member whose previous call has not returned is not called again: it is
 * owed the events instead, and gets them all in one call as soon as it answers, so a slow or absent
 * member never holds up the others. Failures are owed too, and the alarm retries them. The user
 * object counts each seq once, so a retry or a repeated batch never counts twice.
 */
import type { ActivityBatch } from "../user";
import type { ConversationStore } from "./store";

/**
 * How long a round waits before it starts, by conversation size: messages that arrive meanwhile
 * join the round, so under load a member's object gets one call per round, not one per message.
 * A DM goes at once; in a room a badge may lag the message by up to a second (two above 100
 * members), which is what lets a busy room cost its members' objects a few calls a second.
 */
export function roundDelayMs(members: number): number {
  if (members <= 2) return 0;
  if (members <= 100) return 1000;
  return 2000;
}
/** Most events one batch covers; a longer backlog goes in several batches. */
export const NOTIFY_BATCH_EVENTS = 500;
export const PREVIEW_CHARS = 140;
/** A round waits at most this long for its calls before the next round may start. */
export const ROUND_WAIT_MS = 500;

export const NOTIFY_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS notify_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS notify_retry (username TEXT PRIMARY KEY, since INTEGER NOT NULL)`,
];

export type Deliver = (username: string, batch: ActivityBatch) => Promise<void>;

export class Notifier {
  #running: Promise<void> | null = null;
  #again = false;
  /** Calls under way, by member: in memory only (after a restart nothing is under way). */
  readonly #inFlight = new Map<string, Promise<void>>();
  /** The stored cursor, read once per wake (every round and every loop turn asks for it). */
  #cursor: number | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly store: ConversationStore,
    private readonly convId: () => string,
    private readonly deliver: Deliver,
  ) {
    for (const statement of NOTIFY_SCHEMA) sql.exec(statement);
    // A cursor moved inside a transaction that rolled back must not stay ahead of the stored one.
    store.onRollback(() => {
      this.#cursor = undefined;
    });
  }

  cursor(): number {
    this.#cursor ??= this.sql.exec<{ seq: number }>("SELECT seq FROM notify_cursor WHERE id = 1").toArray()[0]?.seq ?? 0;
    return this.#cursor;
  }

  /** Marks everything up to `seq` as already told (a new conversation's first events). */
  advanceTo(seq: number): void {
    this.sql.exec("INSERT INTO notify_cursor (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = max(seq, excluded.seq)", seq);
    this.#cursor = Math.max(this.cursor(), seq);
  }

  pending(): boolean {
    return this.cursor() < this.store.lastSeq() || this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM notify_retry").one().n > 0;
  }

  /** Starts a round unless one runs; a send during a round makes it go round once more. */
  schedule(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = null;
    });
  }

  /** Waits for the current round and every call under way (tests and the alarm use it). */
  async settle(): Promise<void> {
    while (this.#running || this.#inFlight.size > 0) {
      await this.#running;
      await Promise.allSettled([...this.#inFlight.values()]);
    }
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      const delay = roundDelayMs(this.store.memberCount());
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      await this.flush();
    } while (this.#again || this.cursor() < this.store.lastSeq());
  }

  batch(since: number): { batch: ActivityBatch; upTo: number } {
    const events = this.store.eventsAfter(since, NOTIFY_BATCH_EVENTS);
    const upTo = events.length > 0 ? events[events.length - 1]!.seq : since;
    const batch: ActivityBatch = {
      conv: this.convId(),
      lastSeq: this.store.lastSeq(),
      last: this.store.lastMessage() ?? null,
      items: [],
      deleted: [],
    };
    if (this.store.meta()?.kind === "room") batch.members = this.store.memberCount();
    for (const e of events) {
      if (e.t === "msg") {
        batch.items.push(
          e.deleted
            ? { seq: e.seq, from: e.from, preview: "", ts: e.ts, deleted: true }
            : { seq: e.seq, from: e.from, preview: e.body.slice(0, PREVIEW_CHARS), ts: e.ts },
        );
      } else if (e.t === "delete") {
        const target = this.store.message(e.target);
        if (target) batch.deleted.push({ target: e.target, from: target.from, seq: e.seq });
      }
    }
    return { batch, upTo };
  }

  /** Records that `username` is owed every event after `since`. */
  #owe(username: string, since: number): void {
    this.sql.exec(
      "INSERT INTO notify_retry (username, since) VALUES (?, ?) ON CONFLICT (username) DO UPDATE SET since = min(since, excluded.since)",
      username, since,
    );
  }

  #owed(username: string): number | null {
    return this.sql.exec<{ since: number }>("SELECT since FROM notify_retry WHERE username = ?", username).toArray()[0]?.since ?? null;
  }

  /**
   * Calls one member, then, while it is owed more, calls it again with all it is owed. A failure
   * leaves the debt for the alarm.
   */
  #call(username: string, batch: ActivityBatch, since: number): Promise<void> {
    const call = (async () => {
      let current = batch;
      let from = since;
      for (;;) {
        try {
          await this.deliver(username, current);
        } catch {
          this.#owe(username, from);
          return;
        }
        const owed = this.#owed(username);
        if (owed === null) return;
        const next = this.batch(owed);
        this.sql.exec("DELETE FROM notify_retry WHERE username = ?", username);
        if (next.upTo < this.store.lastSeq()) this.#owe(username, next.upTo);
        current = next.batch;
        from = owed;
      }
    })().finally(() => this.#inFlight.delete(username));
    this.#inFlight.set(username, call);
    return call;
  }

  /** One round: every member gets the events since the cursor, or is owed them if still busy. */
  async flush(): Promise<void> {
    const since = this.cursor();
    const lastSeq = this.store.lastSeq();
    if (since >= lastSeq) return;
    // Members with an inbox open: the others get exact counts when they next open one (or ask
    // over HTTP), so a room of people who are not looking costs no calls at all, and no batch
    // is even read for them (in a DM, where rounds start at once, that read was a quarter of
    // the cost of a send).
    const watchers = this.store.watchers();
    if (watchers.length === 0) {
      this.advanceTo(lastSeq);
      return;
    }
    const { batch, upTo } = this.batch(since);
    this.advanceTo(upTo);
    const calls: Promise<void>[] = [];
    for (const username of watchers) {
      if (this.#inFlight.has(username)) this.#owe(username, since);
      else calls.push(this.#call(username, batch, since));
    }
    // Wait for the fast majority (that is what coalesces the next round), never for the slowest.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled(calls),
      new Promise<void>((r) => {
        timer = setTimeout(r, ROUND_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Calls the members that are owed events and not busy (from the alarm). */
  async retry(): Promise<void> {
    const rows = this.sql.exec<{ username: string; since: number }>("SELECT username, since FROM notify_retry").toArray();
    const calls = rows
      .filter(({ username }) => !this.#inFlight.has(username))
      .map(({ username, since }) => {
        const { batch, upTo } = this.batch(since);
        this.sql.exec("DELETE FROM notify_retry WHERE username = ?", username);
        if (upTo < this.store.lastSeq()) this.#owe(username, upTo);
        return this.#call(username, batch, since);
      });
    await Promise.allSettled(calls);
  }
}
