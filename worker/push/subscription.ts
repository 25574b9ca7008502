/**
 * Checking a push subscription before it is stored (PROTOCOL.md 7.6). The endpoint is a URL the
 * server will later POST to on its own: accepted only as https on a public host name, so that a
 * client cannot point the server at an address inside a network (SSRF). The keys must be what
 * RFC 8291 needs, so that every stored subscription can be encrypted to.
 */
import { isRecord, PUSH_AUTH_BYTES, PUSH_ENDPOINT_MAX, PUSH_P256DH_BYTES } from "../../protocol";
import { invalid } from "../errors";

/** A subscription that passed every check, as stored. */
export interface CheckedSubscription {
  endpoint: string;
  p256dh: string;
  auth: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
/** Names that never leave the machine or the local network, whatever DNS says. */
const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp", ".private"];

/** The bytes of a base64url string (padding allowed), or null when it is not one. */
export function base64urlBytes(value: string): Uint8Array | null {
  if (!BASE64URL.test(value)) return null;
  const b64 = value.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  try {
    return Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * Whether the host of a URL is a public DNS name: not an IP literal (a push service is always
 * reached by name; a literal is the easy way to name a private address), not a single label,
 * not a name reserved for local use.
 */
export function isPublicHostName(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") || /^[\d.]+$/.test(host) || /^0x/i.test(host)) return false;
  if (!host.includes(".") || host === "localhost") return false;
  if (!/^[a-z0-9.-]+$/.test(host)) return false;
  return !LOCAL_SUFFIXES.some((s) => host.endsWith(s));
}

/** `http://127.0.0.1:<port>` endpoints, for a local stand-in push service (PUSH_ALLOW_LOOPBACK=1). */
export function loopbackAllowed(env: { PUSH_ALLOW_LOOPBACK?: string }): boolean {
  return env.PUSH_ALLOW_LOOPBACK === "1";
}

/** The endpoint, checked; throws `invalid` saying what is wrong. */
export function checkEndpoint(value: unknown, allowLoopback: boolean): string {
  if (typeof value !== "string" || value.length === 0 || value.length > PUSH_ENDPOINT_MAX) {
    throw invalid(`endpoint must be a URL of at most ${PUSH_ENDPOINT_MAX} characters`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid("endpoint must be a URL");
  }
  if (url.username !== "" || url.password !== "") throw invalid("endpoint must not carry credentials");
  if (url.protocol === "https:") {
    // A push service listens on the default port; any other port is a way to reach something else.
    if (url.port !== "" || !isPublicHostName(url.hostname)) throw invalid("endpoint must be https on a public host name");
    return url.href;
  }
  if (allowLoopback && url.protocol === "http:" && url.hostname === "127.0.0.1") return url.href;
  throw invalid("endpoint must be https on a public host name");
}

function key(keys: Record<string, unknown>, name: "p256dh" | "auth", bytes: number): string {
  const v = keys[name];
  const decoded = typeof v === "string" && v.length <= 128 ? base64urlBytes(v) : null;
  if (!decoded || decoded.length !== bytes) throw invalid(`keys.${name} must be ${bytes} bytes in base64url`);
  return v as string;
}

/**
 * A `PushSubscription`'s JSON, checked: `{endpoint, expirationTime?, keys: {p256dh, auth}}` and
 * nothing else; p256dh an uncompressed point on P-256 (imported to be sure), auth 16 bytes.
 */
export async function checkSubscription(body: Record<string, unknown>, allowLoopback: boolean): Promise<CheckedSubscription> {
  for (const k of Object.keys(body)) {
    if (k !== "endpoint" && k !== "expirationTime" && k !== "keys") throw invalid(`unknown field ${JSON.stringify(k.slice(0, 32))}`);
  }
  const exp = body.expirationTime;
  if (exp !== undefined && exp !== null && (typeof exp !== "number" || !Number.isFinite(exp))) throw invalid("expirationTime must be a number or null");
  const endpoint = checkEndpoint(body.endpoint, allowLoopback);
  const keys = body.keys;
  if (!isRecord(keys)) throw invalid("keys must be an object with p256dh and auth");
  for (const k of Object.keys(keys)) if (k !== "p256dh" && k !== "auth") throw invalid(`unknown field keys.${k.slice(0, 32)}`);
  const p256dh = key(keys, "p256dh", PUSH_P256DH_BYTES);
  const auth = key(keys, "auth", PUSH_AUTH_BYTES);
  const point = base64urlBytes(p256dh)!;
  try {
    if (point[0] !== 4) throw new Error("compressed");
    await crypto.subtle.importKey("raw", point, { name: "ECDH", namedCurve: "P-256" }, false, []);
  } catch {
    throw invalid("keys.p256dh must be an uncompressed P-256 public key");
  }
  return { endpoint, p256dh, auth };
}
