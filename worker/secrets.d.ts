// Secrets and optional variables that `wrangler types` cannot see in wrangler.toml.
interface Env {
  /** Signs session tokens. `npx wrangler secret put SESSION_SECRET`; optional under `wrangler dev`. */
  SESSION_SECRET?: string;
}
