// Prints a new VAPID key pair (PROTOCOL.md 7.6) for `wrangler secret put`, e.g.
//   node scripts/vapid-keys.mjs
//   npx wrangler secret put VAPID_PUBLIC_KEY    (paste the first value)
//   npx wrangler secret put VAPID_PRIVATE_KEY   (paste the second value)
// Keep both: a new pair makes every browser's subscription useless until it subscribes again.
import { webcrypto } from "node:crypto";

const pair = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
const raw = Buffer.from(await webcrypto.subtle.exportKey("raw", pair.publicKey));
const jwk = await webcrypto.subtle.exportKey("jwk", pair.privateKey);
console.log(`VAPID_PUBLIC_KEY=${raw.toString("base64url")}`);
console.log(`VAPID_PRIVATE_KEY=${jwk.d}`);
