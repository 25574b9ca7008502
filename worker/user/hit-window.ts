/**
 * A user's request budget (at most `max` requests in any `windowMs`), checked in memory and
 * written to storage a moment later, never on the request's own path.
 *
 * Every authenticated request and socket upgrade takes one request from it in the user's object.
 * Stored on every request, each answer waited for a durable write before it could leave the object
 * (the output gate): in `npm run bench` that write was a fifth of a socket upgrade's time (issue 17,
 * BENCHMARKS.md). Now the window lives in memory while the object is awake, loaded from its table
 * on first use, and the requests taken since the last write are written together at most
 * FLUSH_DELAY_MS later. The object stays awake while that write is pending (its timer holds it),
 * so an idle object has always written everything; what a crash or a deploy can lose is the last
 * FLUSH_DELAY_MS of requests, never more: a restart does not hand out a fresh budget.
 */
import type { Budget } from "./account";

/** How long requests taken wait in memory before they are written together. */
export const FLUSH_DELAY_MS = 1000;

export type HitTable = "http_hits" | "file_hits";

export class HitWindow {
  /** Times of the requests in the window, oldest first, from `#head` on (null until loaded). */
  #hits: number[] | null = null;
  #head = 0;
  /** Taken since the last write. */
  #unsaved: number[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly table: HitTable,
  ) {}

  /** Takes one request at `now`: null when it fits, else the seconds until one would. */
  take(budget: Budget, now: number): number | null {
    const hits = this.#live(budget.windowMs, now);
    const held = hits.length - this.#head;
    if (held >= budget.max) {
      const oldest = hits[this.#head] ?? now;
      return Math.max(1, Math.ceil((oldest + budget.windowMs - now) / 1000));
    }
    hits.push(now);
    this.#unsaved.push(now);
    this.#timer ??= setTimeout(() => this.flush(budget.windowMs), FLUSH_DELAY_MS);
    return null;
  }

  /** Requests held in the window at `now` (what the tests read). */
  held(windowMs: number, now: number): number {
    return this.#live(windowMs, now).length - this.#head;
  }

  /** Writes what was taken since the last write and forgets what left the window. */
  flush(windowMs: number, now = Date.now()): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const unsaved = this.#unsaved;
    this.#unsaved = [];
    try {
      this.sql.exec(`DELETE FROM ${this.table} WHERE at <= ?`, now - windowMs);
      // A statement per 100 rows: a Durable Object's SQL takes at most 100 bound values.
      for (let i = 0; i < unsaved.length; i += 100) {
        const part = unsaved.slice(i, i + 100);
        this.sql.exec(`INSERT INTO ${this.table} (at) VALUES ${part.map(() => "(?)").join(",")}`, ...part);
      }
    } catch {
      // The account's storage was erased meanwhile: nothing left to count against.
    }
  }

  /** Forgets the window kept in memory (its table was rewritten behind it, or erased). */
  reset(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#hits = null;
    this.#head = 0;
    this.#unsaved = [];
  }

  #live(windowMs: number, now: number): number[] {
    if (this.#hits === null) {
      this.#hits = this.sql
        .exec<{ at: number }>(`SELECT at FROM ${this.table} WHERE at > ? ORDER BY at`, now - windowMs)
        .toArray()
        .map((r) => r.at);
      this.#head = 0;
    }
    const hits = this.#hits;
    while (this.#head < hits.length && hits[this.#head]! <= now - windowMs) this.#head++;
    // Compact once the expired part is most of the array (amortised O(1) per request).
    if (this.#head > 64 && this.#head * 2 > hits.length) {
      hits.splice(0, this.#head);
      this.#head = 0;
    }
    return hits;
  }
}
