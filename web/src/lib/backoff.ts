/**
 * The reconnect schedule as a pure function: exponential growth, a ceiling, and jitter so that a
 * thousand clients cut off by the same restart do not all come back in the same millisecond.
 * `random` is injected so tests can pin it.
 */
export interface BackoffOptions {
  /** First delay, in ms. Default 500. */
  baseMs: number;
  /** Ceiling, in ms. Default 30 000. */
  maxMs: number;
  /** Growth per attempt. Default 2. */
  factor: number;
  /** Share of the delay that is random, 0..1. Default 0.5 ("equal jitter"). */
  jitter: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ baseMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 });

/** Delay before reconnect attempt `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, random: () => number = Math.random, o: BackoffOptions = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(o.maxMs, o.baseMs * o.factor ** Math.max(0, attempt));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling * (1 - o.jitter) + ceiling * o.jitter * r);
}
