/**
 * Test helpers for Web Push (PROTOCOL.md 7.6): a browser's side of a subscription (its own P-256
 * pair and auth secret, as PushManager makes them) and a look at the user object's stored
 * subscriptions.
 */
import { env, runInDurableObject } from "cloudflare:test";
import type { PushSubscriptionBody } from "../../protocol";
import type { StoredSubscription } from "../../worker/user/push-subscriptions";
import { api, type Account } from "./helpers";

export const b64url = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export function fromB64url(s: string): Uint8Array {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

/** What a browser holds for one subscription: the body it posts and the private half it decrypts with. */
export interface BrowserSubscription {
  body: PushSubscriptionBody;
  privateKey: CryptoKey;
  publicKey: Uint8Array;
  auth: Uint8Array;
}

export async function browserSubscription(endpoint: string): Promise<BrowserSubscription> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  const publicKey = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const auth = crypto.getRandomValues(new Uint8Array(16));
  return { body: { endpoint, expirationTime: null, keys: { p256dh: b64url(publicKey), auth: b64url(auth) } }, privateKey: pair.privateKey, publicKey, auth };
}

export function subscribe(a: Account, body: unknown): Promise<Response> {
  return api("POST", "/api/me/push", a.token, body);
}

export const userStub = (username: string) => env.USERS.get(env.USERS.idFromName(username));

/** The user object's stored subscriptions, oldest first. */
export function storedSubscriptions(username: string): Promise<StoredSubscription[]> {
  return runInDurableObject(userStub(username), (instance) => instance.pushSubs.all());
}
