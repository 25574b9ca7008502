/**
 * Session tokens: `v1.<payload>.<signature>`, the payload base64url JSON `{u, s, e}` (username,
 * session id, expiry in ms) signed with HMAC-SHA256. A valid signature only says the token was
 * issued here; the user's object still has to know the session (logout revokes it there).
 */
import { isRecord } from "../../protocol";

export interface TokenClaims {
  username: string;
  session: string;
  expires: number;
}

/** Used only when no SESSION_SECRET is configured and the request comes to a loopback host. */
export const DEV_SESSION_SECRET = "edge-chat-development-secret-not-for-production";

export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromB64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  let binary: string;
  try {
    binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
  // A plain loop: Uint8Array.from with a mapping function was over a third of a token's check.
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const keys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
  }
  return key;
}

export function newSessionId(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(18)));
}

export async function signToken(claims: TokenClaims, secret: string): Promise<string> {
  const payload = b64url(encoder.encode(JSON.stringify({ u: claims.username, s: claims.session, e: claims.expires })));
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`v1.${payload}`)));
  return `v1.${payload}.${b64url(sig)}`;
}

/**
 * Tokens whose signature was checked, with their claims and the secret that checked them. Every
 * socket of a client carries the same token, and a reconnect storm brings them all back at once:
 * a token seen before costs a lookup instead of an HMAC (issue 17). Safe to keep, since the
 * answer for a token and a secret never changes but for the expiry, which is checked on every use;
 * a signed-out session is refused by its user's object, never here. Only good tokens are kept,
 * so a flood of forged ones cannot push real ones out; the oldest goes first when it is full.
 */
const checked = new Map<string, { secret: string; claims: TokenClaims }>();
export const CHECKED_TOKENS_MAX = 4096;

/** The claims of a well-signed, unexpired token; null for anything else. */
export async function verifyToken(token: string, secret: string, now = Date.now()): Promise<TokenClaims | null> {
  if (token.length > 512) return null;
  const known = checked.get(token);
  if (known && known.secret === secret) {
    if (known.claims.expires > now) return { ...known.claims };
    checked.delete(token);
    return null;
  }
  const claims = await checkSignature(token, secret, now);
  if (claims) {
    if (checked.size >= CHECKED_TOKENS_MAX) checked.delete(checked.keys().next().value!);
    checked.set(token, { secret, claims: { ...claims } });
  }
  return claims;
}

async function checkSignature(token: string, secret: string, now: number): Promise<TokenClaims | null> {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== "v1") return null;
  const payload = fromB64url(parts[1]!);
  const sig = fromB64url(parts[2]!);
  if (!payload || !sig) return null;
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), sig, encoder.encode(`v1.${parts[1]}`));
  if (!ok) return null;
  let data: unknown;
  try {
    data = JSON.parse(decoder.decode(payload));
  } catch {
    return null;
  }
  if (!isRecord(data)) return null;
  const { u, s, e } = data;
  if (typeof u !== "string" || typeof s !== "string" || typeof e !== "number" || e <= now) return null;
  return { username: u, session: s, expires: e };
}
