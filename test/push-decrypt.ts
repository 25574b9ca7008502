/**
 * What a browser does with a Web Push body it received: decrypt it (RFC 8188 `aes128gcm`, one
 * record, keys of RFC 8291) with the subscription's private key and auth secret, by Web Crypto
 * alone, independent of the library the server encrypts with. Shared by the Workers-pool tests
 * and the browser tests (it runs in workerd and in Node alike).
 */

export interface PushReceiverKeys {
  /** The subscription's ECDH private key (P-256, usable for deriveBits). */
  privateKey: CryptoKey;
  /** Its public key, uncompressed (the `p256dh` the server was given). */
  publicKey: Uint8Array;
  /** The 16-byte auth secret. */
  auth: Uint8Array;
}

const text = (s: string) => new TextEncoder().encode(s);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function hkdf(salt: Uint8Array, ikm: ArrayBuffer | Uint8Array, info: Uint8Array, bytes: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", ikm as ArrayBuffer, "HKDF", false, ["deriveBits"]);
  const params = { name: "HKDF", hash: "SHA-256", salt: salt as Uint8Array<ArrayBuffer>, info: info as Uint8Array<ArrayBuffer> };
  return new Uint8Array(await crypto.subtle.deriveBits(params, key, bytes * 8));
}

/** The JSON the body carries. Throws when it does not decrypt or is not one final record. */
export async function decryptAes128gcm(body: Uint8Array, keys: PushReceiverKeys): Promise<unknown> {
  const salt = body.slice(0, 16);
  const idLength = body[20]!;
  const serverPublic = body.slice(21, 21 + idLength);
  const server = await crypto.subtle.importKey("raw", serverPublic, { name: "ECDH", namedCurve: "P-256" }, false, []);
  // The standard's name is `public` (the Workers types spell it `$public`): one cast for both.
  const ecdh = { name: "ECDH", public: server, $public: server } as unknown as Parameters<SubtleCrypto["deriveBits"]>[0];
  const shared = await crypto.subtle.deriveBits(ecdh, keys.privateKey, 256);
  const ikm = await hkdf(keys.auth, shared, concat(text("WebPush: info\0"), keys.publicKey, serverPublic), 32);
  const cek = await hkdf(salt, ikm, text("Content-Encoding: aes128gcm\0"), 16);
  const nonce = await hkdf(salt, ikm, text("Content-Encoding: nonce\0"), 12);
  const key = await crypto.subtle.importKey("raw", cek as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["decrypt"]);
  const padded = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce as Uint8Array<ArrayBuffer> }, key, body.slice(21 + idLength)));
  // The last record: the content, the delimiter 0x02, then zeroes.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error("no last-record delimiter");
  return JSON.parse(new TextDecoder().decode(padded.slice(0, end)));
}
