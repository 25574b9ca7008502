/**
 * The VAPID `Authorization` header (RFC 8292): a JWT naming the push service's origin (`aud`),
 * an expiry within a day (`exp`) and a contact (`sub`), signed ES256 with the server's key, and
 * the public key beside it (`k=`). The signature is Web Crypto's ECDSA P-256/SHA-256, whose raw
 * r||s output is the JWS form.
 *
 * Why not the library's helper (@block65/webcrypto-web-push, which encrypts the payload in
 * request.ts): it refuses every endpoint that is not https, and the contract's local stand-in
 * push service (PUSH_ALLOW_LOOPBACK=1) is http://127.0.0.1; a token naming the wrong scheme in
 * `aud` would not be valid for it. Only the three claims and the header are assembled here.
 */
import type { VapidKeys } from "./keys";
import { base64urlBytes } from "./subscription";

/** How long a token is valid: RFC 8292 allows up to a day; push services reject more. */
export const VAPID_TOKEN_SECONDS = 12 * 3600;

const enc = new TextEncoder();
const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const b64json = (value: object) => b64url(enc.encode(JSON.stringify(value)));

/** The imported signing key of this isolate, for the pair it was made from. */
let signer: { privateKey: string; key: Promise<CryptoKey> } | null = null;

function signingKey(keys: VapidKeys): Promise<CryptoKey> {
  if (signer?.privateKey !== keys.privateKey) {
    const pub = base64urlBytes(keys.publicKey)!;
    const jwk: JsonWebKey = { kty: "EC", crv: "P-256", x: b64url(pub.slice(1, 33)), y: b64url(pub.slice(33, 65)), d: keys.privateKey, ext: false };
    signer = { privateKey: keys.privateKey, key: crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]) };
  }
  return signer.key;
}

/** `vapid t=<jwt>, k=<public key>` for a push to `endpoint`. */
export async function vapidAuthorization(keys: VapidKeys, endpoint: string, subject: string, nowMs = Date.now()): Promise<string> {
  const claims = { aud: new URL(endpoint).origin, exp: Math.floor(nowMs / 1000) + VAPID_TOKEN_SECONDS, sub: subject };
  const unsigned = `${b64json({ typ: "JWT", alg: "ES256" })}.${b64json(claims)}`;
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, await signingKey(keys), enc.encode(unsigned));
  return `vapid t=${unsigned}.${b64url(new Uint8Array(signature))}, k=${keys.publicKey}`;
}
