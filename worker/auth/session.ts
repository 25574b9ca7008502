/**
 * Reading and checking the caller's session: a bearer token or the session cookie, with a valid
 * signature, not expired, and still known to the user's object (so logout revokes it everywhere).
 * The same call to the user's object takes one request from the caller's HTTP budget.
 */
import type { User } from "../../protocol";
import { limitsFromEnv } from "../config";
import { ApiError, tooMany } from "../errors";
import { HTTP_WINDOW_MS } from "../user/account";
import { DEV_SESSION_SECRET, verifyToken } from "./token";

/** The cookie's name over http (wrangler dev on 127.0.0.1), where `__Host-` cannot be used. */
export const SESSION_COOKIE = "session";
/**
 * Over https: `__Host-` makes the browser refuse the cookie unless it is Secure, has Path=/ and no
 * Domain, so a sibling subdomain cannot plant or shadow it.
 */
export const SECURE_SESSION_COOKIE = "__Host-session";
/** Set by the Worker on a forwarded upgrade: when the socket's session expires (ms since epoch). */
export const SESSION_EXPIRES_HEADER = "X-Chat-Session-Expires";

export interface Caller {
  user: User;
  session: string;
  token: string;
  /** When the session expires (ms since epoch). */
  expires: number;
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * The signing secret: SESSION_SECRET, or, only for requests to a loopback host (wrangler dev), a
 * fixed development secret, so that a fresh checkout runs with no set-up while a deployment
 * without a secret refuses to sign anything.
 */
export function sessionSecret(env: { SESSION_SECRET?: string }, url: URL): string {
  if (env.SESSION_SECRET && env.SESSION_SECRET.length >= 16) return env.SESSION_SECRET;
  if (isLoopback(url.hostname)) return DEV_SESSION_SECRET;
  throw new ApiError(503, "config", "SESSION_SECRET is not configured on this deployment");
}

export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * The bearer token, else the cookie: `__Host-session` first, then `session`, which is what a
 * browser holds over http (wrangler dev) and what sessions made before the prefix were set as.
 */
export function tokenOf(request: Request): string | null {
  const auth = request.headers.get("Authorization");
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  const cookies = request.headers.get("Cookie");
  return readCookie(cookies, SECURE_SESSION_COOKIE) ?? readCookie(cookies, SESSION_COOKIE);
}

/**
 * The signed-in caller, or null for a missing, forged, expired or revoked session. Unless
 * `count` is false, the request is taken from one of the caller's budgets in the same call (file
 * downloads from their own, larger one; see RequestBudget); over budget it throws a 429 with
 * `retryAfterSec`.
 */
export async function authenticate(request: Request, env: Env, count: "http" | "files" | false = "http"): Promise<Caller | null> {
  const token = tokenOf(request);
  if (!token) return null;
  const claims = await verifyToken(token, sessionSecret(env, new URL(request.url)));
  if (!claims) return null;
  const limits = limitsFromEnv(env);
  const budget = count ? { kind: count, max: count === "files" ? limits.fileReadsPerMinute : limits.httpPerMinute, windowMs: HTTP_WINDOW_MS } : undefined;
  const check = await env.USERS.get(env.USERS.idFromName(claims.username)).checkSession(claims.session, budget);
  if (!check.ok) {
    if (check.reason === "rate_limited") throw tooMany("too many requests; slow down", check.retryAfterSec);
    return null;
  }
  return { user: check.user, session: claims.session, token, expires: check.expires };
}

/**
 * True once the session a socket was opened with has expired: sockets outlive the request that
 * opened them, so the objects' heartbeat sweeps ask this and close such sockets with 4401.
 * `expires` is what SESSION_EXPIRES_HEADER carried (missing or malformed: never expires here,
 * as before; logout still closes the socket).
 */
export function sessionExpired(attachment: { expires?: number }, now: number): boolean {
  return typeof attachment.expires === "number" && attachment.expires > 0 && attachment.expires <= now;
}

/** The expiry SESSION_EXPIRES_HEADER carries, for a socket's attachment (undefined if absent). */
export function expiresFromHeader(request: Request): number | undefined {
  const raw = request.headers.get(SESSION_EXPIRES_HEADER);
  return raw !== null && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
}

const isHttps = (url: URL) => url.protocol === "https:";

export function sessionCookie(token: string, expires: number, url: URL): string {
  const maxAge = Math.max(0, Math.floor((expires - Date.now()) / 1000));
  const name = isHttps(url) ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  const secure = isHttps(url) ? "; Secure" : "";
  return `${name}=${token}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${maxAge}${secure}`;
}

/** The cookies that sign a browser out: over https both names (a pre-prefix cookie may linger). */
export function clearedCookies(url: URL): string[] {
  if (!isHttps(url)) return [`${SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0`];
  return [SECURE_SESSION_COOKIE, SESSION_COOKIE].map((name) => `${name}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure`);
}
