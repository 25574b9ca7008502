/**
 * When the app writes what it keeps for starting offline (lib/kept.ts). While things change, at
 * most about once a second: a busy conversation must not cost an IndexedDB write per message. But
 * at once when a conversation went from the list (a room I left, was removed from, or that was
 * deleted): the next start paints what was kept before the server answers, and a room that comes
 * back there, even for a moment, looks as if the leave had failed. And at once when the page is
 * hidden or unloaded, which a reload or a closed tab would otherwise cut short of its last second.
 */
import { realTimers, type Timers } from "./timers";

export class KeepSchedule {
  #timer: unknown = null;
  /** The conversations in the list as last seen (null: not seen yet, so nothing can have gone). */
  #listed: Set<string> | null = null;

  constructor(
    private readonly write: () => void,
    private readonly delayMs = 1000,
    private readonly timers: Timers = realTimers,
  ) {}

  /** Something changed: written within `delayMs`, with whatever else changes meanwhile. */
  soon(): void {
    if (this.#timer !== null) return;
    this.#timer = this.timers.setTimeout(() => this.now(), this.delayMs);
  }

  /** Written now (a write that was due is this one). */
  now(): void {
    this.#cancel();
    this.write();
  }

  /** The conversation list changed to `ids`: now if one of those listed before is gone, else soon. */
  listChanged(ids: Iterable<string>): void {
    const next = new Set(ids);
    const before = this.#listed;
    this.#listed = next;
    if (before && [...before].some((id) => !next.has(id))) this.now();
    else this.soon();
  }

  /** Forgets the list (signed out): the next user's first list drops nothing. */
  reset(): void {
    this.#cancel();
    this.#listed = null;
  }

  #cancel(): void {
    if (this.#timer !== null) this.timers.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
