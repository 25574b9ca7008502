// `npm run deploy` refuses to ship without a real session secret on the target Worker.
import { execFileSync } from "node:child_process";

let names = [];
try {
  const out = execFileSync("npx", ["wrangler", "secret", "list", "--format", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  names = JSON.parse(out).map((s) => s.name);
} catch {
  // The Worker does not exist yet, or wrangler is not logged in: no secret can be set either.
}
if (!names.includes("SESSION_SECRET")) {
  console.error(
    "SESSION_SECRET is not set for this Worker. Set a long random one first:\n" +
      "  openssl rand -base64 48 | npx wrangler secret put SESSION_SECRET\n" +
      "(On a first deploy, `npx wrangler deploy` once creates the Worker; it refuses to sign sessions until the secret exists.)",
  );
  process.exit(1);
}
