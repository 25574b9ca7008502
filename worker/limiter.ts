/**
 * Limits on the account routes that hold under parallel requests: failed log-ins and sign-ups per
 * client address, and failed log-ins per username. Each count lives in a small Durable Object
 * that checks and records in one synchronous call (`take`), so N requests at once never get past
 * what N requests in a row would: the check and the write cannot interleave inside one object.
 *
 * Per-username counts live in a fixed set of shard objects, not in the user's own object: a
 * made-up username then costs no storage of its own (its rows expire with the window), and a real
 * and a made-up username go through the very same code, so the lockout cannot tell them apart.
 */
import { DurableObject } from "cloudflare:workers";
import { DEFAULT_LIMITS } from "../protocol";
import { fnv1a } from "./fnv1a";
import { limitsFromEnv, positiveVar } from "./config";

export interface WindowLimit {
  /** Most events allowed in the window. */
  max: number;
  windowMs: number;
}

/** An event taken (give it back with `giveBack` if it turns out not to count), or a refusal. */
export type Take = { ok: true; id: number } | { ok: false; retryAfterSec: number };

/** Defaults; LIMIT_LOGIN_FAILURES_PER_ADDRESS and LIMIT_SIGNUPS_PER_ADDRESS override the counts. */
export const LOGIN_FAILURES_PER_ADDRESS: WindowLimit = { max: 30, windowMs: 15 * 60 * 1000 };
export const SIGNUPS_PER_ADDRESS: WindowLimit = { max: 20, windowMs: 60 * 60 * 1000 };
/** Failed log-ins per username (LIMIT_LOGIN_FAILURES_PER_USERNAME overrides the count). */
export const LOGIN_FAILURES_PER_USERNAME: WindowLimit = { max: DEFAULT_LIMITS.loginFailuresPerUsername, windowMs: 15 * 60 * 1000 };
/** Usernames are spread over this many limiter objects. */
export const USERNAME_SHARDS = 32;

export function addressLimits(env: object): { login: WindowLimit; signup: WindowLimit; username: WindowLimit } {
  const count = (name: string, fallback: number) => Math.floor(positiveVar(env, name, fallback));
  return {
    login: { ...LOGIN_FAILURES_PER_ADDRESS, max: count("LIMIT_LOGIN_FAILURES_PER_ADDRESS", LOGIN_FAILURES_PER_ADDRESS.max) },
    signup: { ...SIGNUPS_PER_ADDRESS, max: count("LIMIT_SIGNUPS_PER_ADDRESS", SIGNUPS_PER_ADDRESS.max) },
    username: { ...LOGIN_FAILURES_PER_USERNAME, max: Math.floor(limitsFromEnv(env).loginFailuresPerUsername) },
  };
}

export class AddressLimiter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (kind TEXT NOT NULL, at INTEGER NOT NULL)");
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS hits_kind_at ON hits (kind, at)");
  }

  /**
   * Takes one event of `kind` if fewer than `limit.max` fall in the window; otherwise refuses with
   * the seconds until the oldest one leaves it. Check and record are one step: no await between.
   */
  take(kind: string, limit: WindowLimit, now = Date.now()): Take {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM hits WHERE kind = ? AND at <= ?", kind, now - limit.windowMs);
    const { n, oldest } = sql.exec<{ n: number; oldest: number | null }>("SELECT count(*) AS n, min(at) AS oldest FROM hits WHERE kind = ?", kind).one();
    if (n >= limit.max) return { ok: false, retryAfterSec: Math.max(1, Math.ceil(((oldest ?? now) + limit.windowMs - now) / 1000)) };
    sql.exec("INSERT INTO hits (kind, at) VALUES (?, ?)", kind, now);
    return { ok: true, id: sql.exec<{ id: number }>("SELECT last_insert_rowid() AS id").one().id };
  }

  /** Gives back an event taken ahead of an attempt that did not count (a log-in that succeeded). */
  giveBack(id: number): void {
    this.ctx.storage.sql.exec("DELETE FROM hits WHERE rowid = ?", id);
  }

  clear(kind: string): void {
    this.ctx.storage.sql.exec("DELETE FROM hits WHERE kind = ?", kind);
  }
}

/** The client's address as Cloudflare reports it; all clients without one share a bucket. */
export function clientAddress(request: Request): string {
  return request.headers.get("CF-Connecting-IP") ?? "unknown";
}

/** Loopback clients exist only under `wrangler dev` (and its load tests): they are not limited. */
export function isLoopbackAddress(address: string): boolean {
  return address === "::1" || /^127\.\d+\.\d+\.\d+$/.test(address);
}

/** The limiter for the request's address, or null for a loopback client. */
export function limiterFor(env: Env, request: Request) {
  const address = clientAddress(request);
  return isLoopbackAddress(address) ? null : env.LIMITERS.get(env.LIMITERS.idFromName(`addr:${address}`));
}

/** Spreads usernames over the shards; not a secret, only an even spread. */
export function usernameShard(username: string): number {
  return fnv1a(username) % USERNAME_SHARDS;
}

/** The limiter that counts failed log-ins for `username`, and the kind its rows carry. */
export function usernameLimiter(env: Env, username: string) {
  return { stub: env.LIMITERS.get(env.LIMITERS.idFromName(`names:${usernameShard(username)}`)), kind: `login:${username}` };
}
