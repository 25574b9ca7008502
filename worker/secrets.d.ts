// Secrets and optional variables that `wrangler types` cannot see in wrangler.toml.
interface SecretBindings {
  /** Signs session tokens. `npx wrangler secret put SESSION_SECRET`; optional under `wrangler dev`. */
  SESSION_SECRET?: string;
}
interface Env extends SecretBindings {}
declare namespace Cloudflare {
  interface Env extends SecretBindings {}
}
