/**
 * One Web Push request (PROTOCOL.md 7.6): the payload encrypted for the subscription with RFC 8291
 * (`aes128gcm`, by @block65/webcrypto-web-push on Web Crypto; padded, so the push service cannot
 * tell a long message from a short one), the VAPID header (vapid.ts), `TTL` one day, `Urgency`
 * high for DMs and normal for rooms, and a `Topic` per conversation: a push service that still
 * holds an undelivered push of the same topic replaces it, so a burst never piles up on a phone.
 */
import { encryptNotification } from "@block65/webcrypto-web-push";
import { PUSH_TTL_SECONDS, type PushPayload } from "../../protocol";
import type { VapidKeys } from "./keys";
import { vapidAuthorization } from "./vapid";

export type Urgency = "high" | "normal";

export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

/**
 * The Topic of a conversation: RFC 8030 allows 32 base64url characters, fewer than an id has,
 * and the push service need not learn the id: the first 32 characters of its SHA-256.
 */
export async function topicOf(conv: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(conv)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").slice(0, 32);
}

export async function buildPushRequest(
  target: PushTarget,
  payload: PushPayload,
  opts: { keys: VapidKeys; subject: string; urgency: Urgency; topic: string },
): Promise<{ url: string; init: RequestInit }> {
  const body = await encryptNotification(
    { endpoint: target.endpoint, expirationTime: null, keys: { p256dh: target.p256dh, auth: target.auth } },
    new TextEncoder().encode(JSON.stringify(payload)),
  );
  const headers = {
    Authorization: await vapidAuthorization(opts.keys, target.endpoint, opts.subject),
    "Content-Encoding": "aes128gcm",
    "Content-Type": "application/octet-stream",
    TTL: String(PUSH_TTL_SECONDS),
    Urgency: opts.urgency,
    Topic: opts.topic,
  };
  return { url: target.endpoint, init: { method: "POST", headers, body } };
}
