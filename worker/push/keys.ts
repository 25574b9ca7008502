/**
 * The server's VAPID key pair (RFC 8292): browsers subscribe with its public half, and every
 * push is signed with its private half, so it must stay the same for as long as subscriptions
 * live. Under `wrangler deploy` it is a pair of secrets (VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY,
 * made with `node scripts/vapid-keys.mjs`; `npm run deploy` refuses to ship without them).
 * Without them (`wrangler dev`, the browser tests, the Workers pool) a pair is made on first use
 * and kept in one Durable Object's storage (PushKeyStore), i.e. with the rest of the local
 * state: no set-up, and the same key across restarts of `npm run dev`. The secrets are required
 * for a deployment rather than this store because an operator must be able to keep the key when
 * moving or restoring the service (a new key orphans every subscription) and to rotate it.
 */
import { DurableObject } from "cloudflare:workers";
import { ApiError } from "../errors";
import { base64urlBytes } from "./subscription";

export interface VapidKeys {
  /** base64url of the uncompressed P-256 point (65 bytes): `GET /api/push/key`, `k=` of VAPID. */
  publicKey: string;
  /** base64url of the private scalar `d` (32 bytes). */
  privateKey: string;
}

interface VapidSecrets {
  VAPID_PUBLIC_KEY?: string;
  VAPID_PRIVATE_KEY?: string;
  PUSH_KEYS: DurableObjectNamespace<PushKeyStore>;
}

const toBase64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** Whether a pair has the right shapes (a secret pasted wrong fails loudly, not at every push). */
export function wellFormed(keys: VapidKeys): boolean {
  const pub = base64urlBytes(keys.publicKey);
  const d = base64urlBytes(keys.privateKey);
  return pub?.length === 65 && pub[0] === 4 && d?.length === 32;
}

/** The stored pair of this isolate, read once (the store's answer never changes). */
let stored: Promise<VapidKeys> | null = null;

export function vapidKeys(env: VapidSecrets): Promise<VapidKeys> {
  if (env.VAPID_PUBLIC_KEY || env.VAPID_PRIVATE_KEY) {
    const keys = { publicKey: env.VAPID_PUBLIC_KEY ?? "", privateKey: env.VAPID_PRIVATE_KEY ?? "" };
    if (!wellFormed(keys)) return Promise.reject(new ApiError(503, "config", "VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY are not a valid pair"));
    return Promise.resolve(keys);
  }
  if (!stored) {
    stored = env.PUSH_KEYS.get(env.PUSH_KEYS.idFromName("vapid")).keys();
    stored.catch(() => {
      stored = null;
    });
  }
  return stored;
}

/** A fresh P-256 pair in the VAPID encodings. */
export async function makeVapidKeys(): Promise<VapidKeys> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { publicKey: toBase64url(raw), privateKey: jwk.d ?? "" };
}

/** Keeps the pair made on first use when no secrets are configured (one object per deployment). */
export class PushKeyStore extends DurableObject<Env> {
  async keys(): Promise<VapidKeys> {
    const held = await this.ctx.storage.get<VapidKeys>("vapid");
    if (held) return held;
    // Two first calls at once must not make two pairs: the second waits and reads the first's.
    return this.ctx.blockConcurrencyWhile(async () => {
      const again = await this.ctx.storage.get<VapidKeys>("vapid");
      if (again) return again;
      const made = await makeVapidKeys();
      await this.ctx.storage.put("vapid", made);
      return made;
    });
  }
}
