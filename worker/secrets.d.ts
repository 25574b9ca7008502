// Secrets and optional variables that `wrangler types` cannot see in wrangler.toml.
interface SecretBindings {
  /** Signs session tokens. `npx wrangler secret put SESSION_SECRET`; optional under `wrangler dev`. */
  SESSION_SECRET?: string;
  /** Web Push (7.6): the VAPID pair, base64url (`node scripts/vapid-keys.mjs`); optional under `wrangler dev`. */
  VAPID_PUBLIC_KEY?: string;
  VAPID_PRIVATE_KEY?: string;
}
interface Env extends SecretBindings {}
declare namespace Cloudflare {
  interface Env extends SecretBindings {}
}
