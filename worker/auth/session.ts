/**
 * Reading and checking the caller's session: a bearer token or the session cookie, with a valid
 * signature, not expired, and still known to the user's object (so logout revokes it everywhere).
 */
import type { User } from "../../protocol";
import { ApiError } from "../errors";
import { DEV_SESSION_SECRET, verifyToken } from "./token";

export const SESSION_COOKIE = "session";

export interface Caller {
  user: User;
  session: string;
  token: string;
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

export function tokenOf(request: Request): string | null {
  const auth = request.headers.get("Authorization");
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  return readCookie(request.headers.get("Cookie"), SESSION_COOKIE);
}

/** The signed-in caller, or null for a missing, forged, expired or revoked session. */
export async function authenticate(request: Request, env: Env): Promise<Caller | null> {
  const token = tokenOf(request);
  if (!token) return null;
  const claims = await verifyToken(token, sessionSecret(env, new URL(request.url)));
  if (!claims) return null;
  const user = await env.USERS.get(env.USERS.idFromName(claims.username)).checkSession(claims.session);
  return user ? { user, session: claims.session, token } : null;
}

export function sessionCookie(token: string, expires: number, url: URL): string {
  const maxAge = Math.max(0, Math.floor((expires - Date.now()) / 1000));
  const secure = url.protocol === "https:" ? "; Secure" : "";
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${maxAge}${secure}`;
}

export function clearedCookie(url: URL): string {
  const secure = url.protocol === "https:" ? "; Secure" : "";
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0${secure}`;
}
