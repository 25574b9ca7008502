/**
 * A stand-in for a browser vendor's push service on 127.0.0.1 (the server allows it with
 * PUSH_ALLOW_LOOPBACK=1), and the decryption a browser does when a push arrives (RFC 8291,
 * aes128gcm), so that a test can hand the server's real payload to the service worker.
 */
import { createServer, type Server } from "node:http";
import { decryptAes128gcm } from "../push-decrypt";

export interface StandIn {
  endpoint: (id: string) => string;
  /** The bodies pushed to endpoint `id` so far, in order. */
  received: (id: string) => Uint8Array<ArrayBuffer>[];
  close: () => Promise<void>;
}

export async function standInPushService(): Promise<StandIn> {
  const log = new Map<string, Uint8Array<ArrayBuffer>[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const id = (req.url ?? "").replace(/^\/push\//, "");
      log.set(id, [...(log.get(id) ?? []), new Uint8Array(Buffer.concat(chunks))]);
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: (id) => `http://127.0.0.1:${port}/push/${id}`,
    received: (id) => log.get(id) ?? [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const fromB64url = (s: string) => new Uint8Array(Buffer.from(s, "base64url"));


/** A subscription's secrets as the page made them: its JSON, and its private key as a JWK. */
export interface PageSubscription {
  json: { endpoint: string; keys: { p256dh: string; auth: string } };
  jwk: JsonWebKey;
}

/** Decrypts one aes128gcm push body (a single record) with the subscription's keys. */
export async function decryptPush(body: Uint8Array<ArrayBuffer>, sub: PageSubscription): Promise<unknown> {
  const privateKey = await crypto.subtle.importKey("jwk", sub.jwk, { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  return decryptAes128gcm(body, { privateKey, publicKey: fromB64url(sub.json.keys.p256dh), auth: fromB64url(sub.json.keys.auth) });
}

/**
 * An init script: headless Chromium here has no vendor push service to subscribe with (its
 * `subscribe` never answers without the internet), so PushManager is replaced by one that makes
 * what a browser makes (a P-256 pair and an auth secret, for `endpoint`) and keeps it in
 * localStorage ("fakePush"), where the test reads the private half to decrypt with.
 */
export function fakePushManager(endpoint: string): void {
  if (typeof PushManager === "undefined") return;
  const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const wrap = (json: unknown): PushSubscription => ({
    endpoint,
    toJSON: () => json,
    unsubscribe: async () => { localStorage.removeItem("fakePush"); return true; },
  }) as unknown as PushSubscription;
  PushManager.prototype.getSubscription = async () => {
    const saved = localStorage.getItem("fakePush");
    return saved ? wrap(JSON.parse(saved).json) : null;
  };
  PushManager.prototype.subscribe = async (options?: PushSubscriptionOptionsInit) => {
    localStorage.setItem("fakePushKey", String(options?.applicationServerKey));
    const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
    const pub = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const json = { endpoint, expirationTime: null, keys: { p256dh: b64(pub), auth: b64(crypto.getRandomValues(new Uint8Array(16))) } };
    localStorage.setItem("fakePush", JSON.stringify({ json, jwk: await crypto.subtle.exportKey("jwk", pair.privateKey) }));
    return wrap(json);
  };
}
