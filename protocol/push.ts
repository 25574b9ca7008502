/**
 * Web Push (v1.1, PROTOCOL.md 7.6): what the app sends to subscribe, and what its service worker
 * receives. Shared by the Worker (which checks and sends) and the web app (which subscribes and
 * shows the notification).
 */

/** A `PushSubscription`'s JSON, as `POST /api/me/push` takes it (`expirationTime` is ignored). */
export interface PushSubscriptionBody {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

/**
 * The decrypted body of a push: `from` is the sender's display name; `title` is the sender's
 * display name in a DM and the room's title in a room; `preview` is what the inbox's `activity`
 * shows (files as "🖼 photo" and the like), or "" when the user turned previews off.
 */
export interface PushPayload {
  conv: string;
  seq: number;
  from: string;
  title: string;
  preview: string;
}

/** Subscriptions kept per user; a new one beyond this drops the oldest. */
export const PUSH_SUBSCRIPTIONS_MAX = 10;
/** Longest endpoint URL accepted (the browsers' push services use a few hundred characters). */
export const PUSH_ENDPOINT_MAX = 2048;
/** `keys.p256dh`: an uncompressed P-256 point; `keys.auth`: the 16-byte secret (RFC 8291). */
export const PUSH_P256DH_BYTES = 65;
export const PUSH_AUTH_BYTES = 16;
/** How long a push service keeps an undelivered push (the `TTL` header), in seconds. */
export const PUSH_TTL_SECONDS = 86_400;
