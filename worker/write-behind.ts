/**
 * Rows changed in memory and written to storage a moment later, together: one SQLite commit for
 * many changes instead of one each. Under `wrangler dev` every object shares one thread, and a
 * commit on the disk (an fsync) holds it: a reconnect storm paid one per presence lease report
 * and one per announced presence row (issue 17, BENCHMARKS.md). Used by the user object's
 * presence leases (user/lease-book.ts), a conversation's presence rows
 * (conversation/presence-table.ts), the sessions it checked (conversation/checked-sessions-table.ts)
 * and its notifier's cursor (conversation/notify.ts); the owner keeps the rows in memory and says
 * which changed.
 *
 * The pending timer keeps the object awake until the write, so only a crash or a reset can lose
 * what is pending; `saved()` lets a caller answer only once its change is stored.
 */
export class WriteBehind<K> {
  /** Keys changed since the last write. */
  readonly #pending = new Set<K>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Callers of saved() waiting for the next write. */
  #waiting: (() => void)[] = [];

  /** `write` stores the rows of the keys given (one call, one commit). */
  constructor(
    private readonly delayMs: number,
    private readonly write: (keys: ReadonlySet<K>) => void,
  ) {}

  /** `key` changed in memory: it is written at most `delayMs` after the first change pending. */
  changed(key: K): void {
    this.#pending.add(key);
    this.#timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /** Whether a write is due (some change is not stored yet). */
  get pending(): boolean {
    return this.#pending.size > 0;
  }

  /** Settles once every change made so far is written. */
  saved(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Writes what is pending now. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.size > 0) {
      try {
        this.write(this.#pending);
      } catch {
        // The object's tables were erased meanwhile (a made-up name or id, a deleted room):
        // nothing is left to keep.
      }
      this.#pending.clear();
    }
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve();
  }
}
