/**
 * A flag that turns on only once its input has stayed on for `delayMs`, and off as soon as the
 * input goes off. The "Reconnecting" bar uses it: a deploy closes every socket, and where the
 * server takes them back at once (the first retry comes 0.25-0.5 s after the close) that should
 * show nothing; a connection that stays down shows the bar once, steadily, until it is back, not
 * once per attempt.
 */
import { realTimers, type Timers } from "./timers";

export class DelayedFlag {
  #timer: unknown = null;
  #on = false;

  constructor(
    private readonly changed: (on: boolean) => void,
    private readonly delayMs: number,
    private readonly timers: Timers = realTimers,
  ) {}

  get on(): boolean {
    return this.#on;
  }

  /** The input's value now (repeats change nothing: the wait is not restarted). */
  set(input: boolean): void {
    if (!input) {
      if (this.#timer !== null) this.timers.clearTimeout(this.#timer);
      this.#timer = null;
      if (this.#on) {
        this.#on = false;
        this.changed(false);
      }
      return;
    }
    if (this.#on || this.#timer !== null) return;
    this.#timer = this.timers.setTimeout(() => {
      this.#timer = null;
      this.#on = true;
      this.changed(true);
    }, this.delayMs);
  }
}
