/**
 * Telling members' user objects about new messages, off the send path. One flush at a time takes
 * every event since the last flush (so a burst of sends becomes one call per member), calls the
 * members in parallel, and remembers who failed so that the alarm retries them. The user object
 * counts each seq once, so a retry or a repeated batch never counts twice.
 */
import type { ActivityBatch } from "../user";
import type { ConversationStore } from "./store";

/**
 * How long a round waits before it starts, by conversation size: messages that arrive meanwhile
 * join the round, so under load a member's object gets one call per round, not one per message.
 * Small conversations go at once; in a large room a badge may lag the message by a second.
 */
export function roundDelayMs(members: number): number {
  if (members <= 10) return 0;
  if (members <= 100) return 200;
  return 1000;
}
/** Most events one batch covers; a longer backlog goes in several batches. */
export const NOTIFY_BATCH_EVENTS = 500;
export const PREVIEW_CHARS = 140;

export const NOTIFY_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS notify_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS notify_retry (username TEXT PRIMARY KEY, since INTEGER NOT NULL)`,
];

export type Deliver = (username: string, batch: ActivityBatch) => Promise<void>;

export class Notifier {
  #running: Promise<void> | null = null;
  #again = false;

  constructor(
    private readonly sql: SqlStorage,
    private readonly store: ConversationStore,
    private readonly convId: () => string,
    private readonly deliver: Deliver,
  ) {
    for (const statement of NOTIFY_SCHEMA) sql.exec(statement);
  }

  cursor(): number {
    return this.sql.exec<{ seq: number }>("SELECT seq FROM notify_cursor WHERE id = 1").toArray()[0]?.seq ?? 0;
  }

  /** Marks everything up to `seq` as already told (a new conversation's first events). */
  advanceTo(seq: number): void {
    this.sql.exec("INSERT INTO notify_cursor (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = max(seq, excluded.seq)", seq);
  }

  pending(): boolean {
    return this.cursor() < this.store.lastSeq() || this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM notify_retry").one().n > 0;
  }

  /** Starts a flush unless one runs; a send during a flush makes it go round once more. */
  schedule(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = null;
    });
  }

  /** Waits for the current flush, if any (tests and the alarm use it). */
  async settle(): Promise<void> {
    while (this.#running) await this.#running;
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
      }
      else if (e.t === "delete") {
        const target = this.store.message(e.target);
        if (target) batch.deleted.push({ target: e.target, from: target.from, seq: e.seq });
      }
    }
    return { batch, upTo };
  }

  /** One round: everyone gets the events since the cursor; failures are kept for a retry. */
  async flush(): Promise<void> {
    const since = this.cursor();
    if (since < this.store.lastSeq()) {
      const { batch, upTo } = this.batch(since);
      const members = this.store.members().map((m) => m.username);
      this.advanceTo(upTo);
      const results = await Promise.allSettled(members.map((u) => this.deliver(u, batch)));
      results.forEach((r, i) => {
        if (r.status === "rejected") {
          this.sql.exec(
            "INSERT INTO notify_retry (username, since) VALUES (?, ?) ON CONFLICT (username) DO UPDATE SET since = min(since, excluded.since)",
            members[i]!, since,
          );
        }
      });
    }
  }

  /** Retries the members whose delivery failed (from the alarm). */
  async retry(): Promise<void> {
    const rows = this.sql.exec<{ username: string; since: number }>("SELECT username, since FROM notify_retry").toArray();
    await Promise.allSettled(
      rows.map(async ({ username, since }) => {
        const { batch, upTo } = this.batch(since);
        await this.deliver(username, batch);
        if (upTo >= this.store.lastSeq()) this.sql.exec("DELETE FROM notify_retry WHERE username = ? AND since = ?", username, since);
        else this.sql.exec("UPDATE notify_retry SET since = ? WHERE username = ?", upTo, username);
      }),
    );
  }
}
