/**
 * Every client frame kind within a budget, per user and conversation (PROTOCOL.md 5 and 7.5):
 * `send`, `edit`, `delete` and `react` share the send budget (a flood of edits costs what a flood
 * of sends does), `history`, `sync` and `read` share the read budget, and `typing` is relayed at
 * most once per interval. Token buckets in SQLite, so that hibernation does not refill them; the copy in
 * memory saves reading a busy sender's bucket back on every frame, and is written through in the
 * same turn as whatever the frame stores.
 */
import type { ClientFrameType, Limits } from "../../protocol";
import type { ConversationStore } from "./store";

export type Budget = "write" | "read" | "typing";

/** Which budget each client frame draws on. */
export const BUDGET_OF: Readonly<Record<ClientFrameType, Budget>> = {
  send: "write", edit: "write", delete: "write", react: "write",
  history: "read", sync: "read", read: "read",
  typing: "typing",
};

export const BUDGET_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS buckets (username TEXT NOT NULL, kind TEXT NOT NULL, tokens REAL NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (username, kind))`,
];

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

export class Budgets {
  readonly #buckets = new Map<string, Bucket | null>();

  constructor(
    private readonly sql: SqlStorage,
    store: ConversationStore,
  ) {
    store.onRollback(() => this.#buckets.clear());
  }

  /** Takes one token from `username`'s `kind` bucket; false (and nothing written) when empty. */
  take(username: string, kind: Budget, now: number, limits: Limits): boolean {
    const { rate, burst } = budgetRate(kind, limits);
    const key = `${kind}:${username}`;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = this.sql.exec<{ tokens: number; at: number }>("SELECT tokens, at FROM buckets WHERE username = ? AND kind = ?", username, kind).toArray()[0] ?? null;
      this.#buckets.set(key, bucket);
    }
    const available = bucket ? Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) * rate) / 1000) : burst;
    if (available < 1) return false;
    this.sql.exec("INSERT OR REPLACE INTO buckets (username, kind, tokens, at) VALUES (?, ?, ?, ?)", username, kind, available - 1, now);
    this.#buckets.set(key, { tokens: available - 1, at: now });
    return true;
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
