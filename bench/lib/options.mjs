// What both bench tools (run.mjs, compare.mjs) read the same way: their flags, and the limits a
// load generator must lift so that it measures the service rather than its abuse limits.

/** `--key=value` (split at the first "=": a value may hold one) and `--flag` (true). */
export function parseArgs(argv) {
  return new Map(argv.map((a) => {
    const [k, ...v] = a.replace(/^--/, "").split("=");
    return [k, v.length > 0 ? v.join("=") : true];
  }));
}

/** `--var` settings for ours under load. */
export const LOAD_LIMITS = {
  LIMIT_SENDS_PER_SECOND: 1_000_000,
  LIMIT_SEND_BURST: 1_000_000,
  // A load generator is one very busy user per room owner: the per-user budgets of HTTP
  // requests (one owner invites 999 people), rooms and conversations, and of history and sync,
  // would measure the limits instead of the service.
  LIMIT_READS_PER_SECOND: 1_000_000,
  LIMIT_READ_BURST: 1_000_000,
  LIMIT_HTTP_PER_MINUTE: 1_000_000,
  LIMIT_ROOMS_PER_DAY: 1_000_000,
  LIMIT_CONVERSATIONS_PER_USER: 1_000_000,
  // 1 000-socket rooms use 100 users with 10 sockets each (sign-up is PBKDF2, ~costly).
  LIMIT_SOCKETS_PER_USER: 1000,
};
