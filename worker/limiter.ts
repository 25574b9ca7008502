/**
 * Per-address limits on account routes (failed log-ins, sign-ups): one small Durable Object per
 * client address, counting events in a sliding window in SQLite. It complements the per-username
 * limit in the user's object: that one stops guessing one password, this one stops one address
 * from guessing many.
 */
import { DurableObject } from "cloudflare:workers";
import { positiveVar } from "./config";

export interface WindowLimit {
  /** Most events allowed in the window. */
  max: number;
  windowMs: number;
}

/** Defaults; LIMIT_LOGIN_FAILURES_PER_ADDRESS and LIMIT_SIGNUPS_PER_ADDRESS override the counts. */
export const LOGIN_FAILURES_PER_ADDRESS: WindowLimit = { max: 30, windowMs: 15 * 60 * 1000 };
export const SIGNUPS_PER_ADDRESS: WindowLimit = { max: 20, windowMs: 60 * 60 * 1000 };

export function addressLimits(env: object): { login: WindowLimit; signup: WindowLimit } {
  const count = (name: string, fallback: number) => Math.floor(positiveVar(env, name, fallback));
  return {
    login: { ...LOGIN_FAILURES_PER_ADDRESS, max: count("LIMIT_LOGIN_FAILURES_PER_ADDRESS", LOGIN_FAILURES_PER_ADDRESS.max) },
    signup: { ...SIGNUPS_PER_ADDRESS, max: count("LIMIT_SIGNUPS_PER_ADDRESS", SIGNUPS_PER_ADDRESS.max) },
  };
}

export class AddressLimiter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (kind TEXT NOT NULL, at INTEGER NOT NULL)");
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS hits_kind_at ON hits (kind, at)");
  }

  /** True while fewer than `limit.max` events of `kind` fall in the window. */
  allowed(kind: string, limit: WindowLimit): boolean {
    const since = Date.now() - limit.windowMs;
    this.ctx.storage.sql.exec("DELETE FROM hits WHERE kind = ? AND at < ?", kind, since);
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM hits WHERE kind = ?", kind).one().n < limit.max;
  }

  record(kind: string): void {
    this.ctx.storage.sql.exec("INSERT INTO hits (kind, at) VALUES (?, ?)", kind, Date.now());
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
