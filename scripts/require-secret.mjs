// `npm run deploy` refuses to ship without the secrets a deployment needs on the target Worker:
// a real session secret, and the VAPID key pair that signs Web Push (PROTOCOL.md 7.6).
import { execFileSync } from "node:child_process";

let names = [];
try {
  const out = execFileSync("npx", ["wrangler", "secret", "list", "--format", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  names = JSON.parse(out).map((s) => s.name);
} catch {
  // The Worker does not exist yet, or wrangler is not logged in: no secret can be set either.
}
const missing = [];
if (!names.includes("SESSION_SECRET")) {
  missing.push(
    "SESSION_SECRET is not set for this Worker. Set a long random one first:\n" +
      "  openssl rand -base64 48 | npx wrangler secret put SESSION_SECRET",
  );
}
if (!names.includes("VAPID_PUBLIC_KEY") || !names.includes("VAPID_PRIVATE_KEY")) {
  missing.push(
    "The VAPID key pair (Web Push) is not set for this Worker. Make one and set both halves:\n" +
      "  node scripts/vapid-keys.mjs\n" +
      "  npx wrangler secret put VAPID_PUBLIC_KEY    (the first value)\n" +
      "  npx wrangler secret put VAPID_PRIVATE_KEY   (the second value)\n" +
      "Keep them: a new pair makes every browser subscribe again.",
  );
}
if (missing.length > 0) {
  console.error(
    `${missing.join("\n\n")}\n\n(On a first deploy, \`npx wrangler deploy\` once creates the Worker; it refuses to sign sessions until the secret exists.)`,
  );
  process.exit(1);
}
