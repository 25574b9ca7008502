/**
 * Test helpers for Web Push (PROTOCOL.md 7.6): a browser's side of a subscription (its own P-256
 * pair and auth secret, as PushManager makes them, and the decryption it does), the stand-in push
 * service's log and script, and a look at the user object's subscriptions and outbox.
 */
import { runInDurableObject } from "cloudflare:test";
import { inject } from "vitest";
import type { PushSubscriptionBody } from "../../protocol";
import type { StoredSubscription } from "../../worker/user/push-subscriptions";
import { decryptAes128gcm } from "../push-decrypt";
import { api, userStub, type Account } from "./helpers";

export { userStub };

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

/** The user object's stored subscriptions, oldest first. */
export function storedSubscriptions(username: string): Promise<StoredSubscription[]> {
  return runInDurableObject(userStub(username), (instance) => instance.pushSubs.all());
}

// ---- the stand-in push service (push-service.global.ts) --------------------------------------

/** One push as the stand-in received it. */
export interface ReceivedPush {
  headers: Record<string, string>;
  /** base64 */
  body: string;
}

const service = () => inject("pushService");

/** A fresh endpoint on the stand-in, with its own log and script. */
export function standInEndpoint(): { id: string; endpoint: string; origin: string } {
  const id = `e${crypto.randomUUID().replace(/-/g, "")}`;
  return { id, endpoint: `${service()}/push/${id}`, origin: service() };
}

/** The next answers of the stand-in for `id` (statuses, or "hang": never answered). */
export async function script(id: string, answers: (number | "hang")[]): Promise<void> {
  await fetch(`${service()}/script/${id}`, { method: "POST", body: JSON.stringify(answers) });
}

/** Answers the pushes the stand-in left hanging for `id`. */
export async function release(id: string): Promise<void> {
  await fetch(`${service()}/release/${id}`, { method: "POST" });
}

export async function pushesTo(id: string): Promise<ReceivedPush[]> {
  return (await (await fetch(`${service()}/log/${id}`)).json()) as ReceivedPush[];
}

/** Waits until the stand-in holds at least `n` pushes for `id`. */
export async function waitForPushes(id: string, n: number, timeoutMs = 10_000): Promise<ReceivedPush[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await pushesTo(id);
    if (got.length >= n) return got;
    if (Date.now() > deadline) throw new Error(`expected ${n} pushes for ${id}, got ${got.length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `cond` holds (a poll with a deadline). */
export async function eventually(cond: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until the user's object has considered every message of `conv` up to `seq` for pushing
 * and has no push under way or due: after this, a push that was going to happen has happened.
 */
export async function pushSettled(username: string, conv: string, seq: number): Promise<void> {
  await eventually(
    () =>
      runInDurableObject(userStub(username), (instance, state) => {
        const seen = state.storage.sql.exec<{ seq: number }>("SELECT seq FROM push_seen WHERE conv = ?", conv).toArray()[0]?.seq ?? 0;
        const due = state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM push_outbox WHERE due <= ?", Date.now()).one().n;
        return seen >= seq && due === 0 && instance.pushSender.busy() === 0;
      }),
    `${username}'s pushes for ${conv} up to ${seq}`,
  );
}

// ---- what a browser does with a push: check the VAPID token, decrypt (RFC 8291) ---------------

const enc = new TextEncoder();


/**
 * Decrypts an `aes128gcm` push body as the browser does (RFC 8188 header, RFC 8291 keys), with
 * Web Crypto only: independent of the library the server encrypts with.
 */
export function decryptPush(received: ReceivedPush, sub: BrowserSubscription): Promise<unknown> {
  return decryptAes128gcm(Uint8Array.from(atob(received.body), (c) => c.charCodeAt(0)), sub);
}

/**
 * Checks the VAPID header (RFC 8292) as a push service does: `k` is the server's public key, the
 * JWT is ES256 and verifies with it, `aud` is the endpoint's origin, `exp` within a day ahead.
 * Returns the claims.
 */
export async function verifyVapid(received: ReceivedPush, endpoint: string, serverKey: string): Promise<{ aud: string; exp: number; sub: string }> {
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(received.headers.authorization ?? "");
  if (!match) throw new Error(`not a VAPID header: ${received.headers.authorization}`);
  const [, token, k] = match;
  if (k !== serverKey) throw new Error("k is not the server's public key");
  const [header, claims, signature] = token!.split(".") as [string, string, string];
  const json = (s: string) => JSON.parse(new TextDecoder().decode(fromB64url(s))) as Record<string, unknown>;
  if (json(header).alg !== "ES256") throw new Error("alg is not ES256");
  const key = await crypto.subtle.importKey("raw", fromB64url(serverKey), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, fromB64url(signature), enc.encode(`${header}.${claims}`));
  if (!ok) throw new Error("the signature does not verify");
  const c = json(claims) as { aud: string; exp: number; sub: string };
  const now = Date.now() / 1000;
  if (c.aud !== new URL(endpoint).origin) throw new Error(`aud ${c.aud} is not ${new URL(endpoint).origin}`);
  if (!(c.exp > now && c.exp <= now + 86_400)) throw new Error(`exp ${c.exp} is not within a day`);
  return c;
}
