/**
 * Every client frame kind within a budget, per user and conversation (PROTOCOL.md 5 and 7.5):
 * `send`, `edit`, `delete` and `react` share the send budget (a flood of edits costs what a flood
 * of sends does), `history`, `sync` and `read` share the read budget, and `typing` is relayed at
 * most once per interval.
 *
 * Token buckets in memory, never written: a send's one durable write is its message. Forgetting
 * them must not hand anyone a fresh burst, so after a wake (or a reset) the send budget is rebuilt
 * from the log itself, which holds every write it paid for with its time: the bucket replayed over
 * the user's writes within the window a full refill takes. The read and typing budgets start full
 * after a wake: the object hibernates only after seconds without a frame, longer than either takes
 * to refill at the defaults, and nobody can make it restart.
 */
import type { ClientFrameType, Limits } from "../../protocol";

export type Budget = "write" | "read" | "typing";

/** Which budget each client frame draws on. */
export const BUDGET_OF: Readonly<Record<ClientFrameType, Budget>> = {
  send: "write", edit: "write", delete: "write", react: "write",
  history: "read", sync: "read", read: "read",
  typing: "typing",
};

/** Objects made before the buckets left storage have this table: dropped (schema.ts). */
export const BUDGET_SCHEMA = [`DROP TABLE IF EXISTS buckets`];

/** The longest stretch of the log read back to rebuild send budgets (a slower refill is cut here). */
const REBUILD_WINDOW_MAX_MS = 10 * 60_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** Sustained rate (tokens a second) and burst of each budget, from the limits in force. */
export function budgetRate(kind: Budget, limits: Limits): { rate: number; burst: number } {
  switch (kind) {
    case "write":
      return { rate: limits.sendsPerSecond, burst: limits.sendBurst };
    case "read":
      return { rate: limits.readsPerSecond, burst: limits.readBurst };
    case "typing":
      return { rate: 1000 / limits.typingIntervalMs, burst: 1 };
  }
}

/** The bucket after taking a token at `now`, or null when it holds less than one. */
function drawn(bucket: Bucket | undefined, now: number, rate: number, burst: number): Bucket | null {
  const available = bucket ? Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) * rate) / 1000) : burst;
  return available < 1 ? null : { tokens: available - 1, at: now };
}

export class Budgets {
  readonly #buckets = new Map<string, Bucket>();
  /** Whether the send budgets were rebuilt from the log since the object woke. */
  #rebuilt = false;

  constructor(private readonly sql: SqlStorage) {}

  /** Takes one token from `username`'s `kind` bucket; false when empty. */
  take(username: string, kind: Budget, now: number, limits: Limits): boolean {
    const { rate, burst } = budgetRate(kind, limits);
    if (kind === "write" && !this.#rebuilt) this.#rebuild(now, rate, burst);
    const key = `${kind}:${username}`;
    const next = drawn(this.#buckets.get(key), now, rate, burst);
    if (!next) return false;
    this.#buckets.set(key, next);
    return true;
  }

  /** Gives back a token taken for a frame that turned out to cost nothing (a resent `send`). */
  giveBack(username: string, kind: Budget, limits: Limits): void {
    const bucket = this.#buckets.get(`${kind}:${username}`);
    if (bucket) bucket.tokens = Math.min(budgetRate(kind, limits).burst, bucket.tokens + 1);
  }

  /**
   * Every user's send bucket as their writes in the log left it: read newest first and only as far
   * back as a full refill takes (older writes no longer count), then replayed oldest first.
   */
  #rebuild(now: number, rate: number, burst: number): void {
    this.#rebuilt = true;
    const since = now - Math.min(REBUILD_WINDOW_MAX_MS, rate > 0 ? Math.ceil((burst / rate) * 1000) : REBUILD_WINDOW_MAX_MS);
    const writes: { user: string; ts: number }[] = [];
    const cursor = this.sql.exec<{ user: string; ts: number }>(
      `SELECT actor AS user, ts, seq FROM events WHERE type IN ('edit', 'delete', 'react')
       UNION ALL SELECT sender, ts, seq FROM messages ORDER BY seq DESC`,
    );
    // The cursor reads lazily: stopping at the window's start reads no further back.
    for (const row of cursor) {
      if (row.ts < since) break;
      writes.push({ user: row.user, ts: row.ts });
    }
    for (let i = writes.length - 1; i >= 0; i--) {
      const { user, ts } = writes[i]!;
      const key = `write:${user}`;
      const before = this.#buckets.get(key) ?? { tokens: burst, at: since };
      this.#buckets.set(key, drawn(before, ts, rate, burst) ?? { tokens: 0, at: ts });
    }
  }
}

/**
 * Where each socket's last replay stopped with `synced.more`: the `sync` that asks for exactly the
 * rest is the client following the protocol, not a new request, and costs no read budget (a
 * person coming back after a long absence must never be refused half-way through catching up).
 * In memory only: after hibernation the next such `sync` simply counts.
 */
const replayStops = new WeakMap<WebSocket, number>();

export function replayStopped(ws: WebSocket, upTo: number | null): void {
  if (upTo === null) replayStops.delete(ws);
  else replayStops.set(ws, upTo);
}

/** Whether a `sync` from `ws` asks for the rest of a replay that stopped with `more`. */
export function continuesReplay(ws: WebSocket, since: number): boolean {
  return replayStops.get(ws) === since;
}
