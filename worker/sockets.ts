/**
 * Socket plumbing shared by both objects: the per-socket attachment (all that must survive
 * hibernation about one socket), codec choice, sending, and refusing an upgrade with a close code
 * that a browser can read.
 */
import {
  chooseSubprotocol,
  createCodec,
  isRecord,
  SUBPROTOCOL_JSON,
  SUBPROTOCOL_MSGPACK,
  SUBPROTOCOL_MSGPACK_SHORT,
  type Codec,
  type Limits,
  type Subprotocol,
} from "../protocol";

/** A socket's codec, as its attachment and its tag name it. */
export type Proto = "m" | "j" | "s";
export const PROTOS: readonly Proto[] = ["m", "j", "s"];
const isProto = (v: unknown): v is Proto => PROTOS.some((p) => p === v);

export interface Attachment {
  /** The signed-in user; set by the Worker from the session, never from a frame. */
  user: string;
  /** The session this socket was opened with, so that logout can close it. */
  session: string;
  /** `j`: chat.v1.json; `m`: chat.v1.msgpack; `s`: chat.v1.msgpack.short. */
  proto: Proto;
  opened: number;
  /** Last time a frame arrived (other than pings, which the runtime answers without waking us). */
  seen: number;
  /** Bad frames in the current minute, and when that minute began. */
  bad: number;
  badSince: number;
  /** When the session expires (ms since the epoch): the heartbeat sweep closes the socket then. */
  expires?: number;
}

/**
 * Attachments read since the object woke, by socket. Every frame needs its socket's attachment,
 * and deserializing it each time was a fourteenth of a message's CPU in the room of 2 (profile in
 * BENCHMARKS.md). The runtime hands out the same socket object for as long as the object is
 * awake; after hibernation this map starts empty and the stored attachment is read again.
 */
const attachments = new WeakMap<WebSocket, Attachment>();

export function readAttachment(ws: WebSocket): Attachment | null {
  const known = attachments.get(ws);
  if (known) return known;
  const a: unknown = ws.deserializeAttachment();
  if (!isRecord(a)) return null;
  const { user, session, proto, opened, seen, bad, badSince, expires } = a;
  if (typeof user !== "string" || typeof session !== "string" || !isProto(proto)) return null;
  const num = (v: unknown) => (typeof v === "number" ? v : 0);
  const read: Attachment = { user, session, proto, opened: num(opened), seen: num(seen), bad: num(bad), badSince: num(badSince) };
  if (typeof expires === "number") read.expires = expires;
  attachments.set(ws, read);
  return read;
}

/** Stores a socket's attachment (it survives hibernation) and keeps it for readAttachment. */
export function writeAttachment(ws: WebSocket, a: Attachment): void {
  ws.serializeAttachment(a);
  attachments.set(ws, a);
}

const PROTOCOL_OF: Readonly<Record<Proto, Subprotocol>> = {
  m: SUBPROTOCOL_MSGPACK, j: SUBPROTOCOL_JSON, s: SUBPROTOCOL_MSGPACK_SHORT,
};

export function protoOf(protocol: Subprotocol): Proto {
  return PROTOS.find((p) => PROTOCOL_OF[p] === protocol) ?? "m";
}

/** One codec per subprotocol, made once per object. */
export class Codecs {
  readonly #codecs: Readonly<Record<Proto, Codec>>;
  constructor(limits: Limits) {
    const make = (p: Proto) => createCodec(PROTOCOL_OF[p], limits);
    this.#codecs = { m: make("m"), j: make("j"), s: make("s") };
  }
  for(proto: Proto): Codec {
    return this.#codecs[proto];
  }
}

/** Sends on a socket that may have closed meanwhile: a send to a dead socket is not an error. */
export function trySend(ws: WebSocket, data: string | Uint8Array): boolean {
  try {
    ws.send(data);
    return true;
  } catch {
    return false;
  }
}

export function tryClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason.slice(0, 120));
  } catch {
    // already closed
  }
}

/** The tag each socket carries for its codec, so that a broadcast can group sockets by tag. */
export const CODEC_TAGS: Readonly<Record<Proto, string>> = { m: "p:m", j: "p:j", s: "p:s" };

/**
 * Sends frames to every socket of the object: each frame list is
 * encoded once per codec in use, and sockets are found by their codec tag, so a broadcast to N
 * sockets costs at most three encodes and N sends, with no per-socket attachment to read. `except` names sockets
 * to skip (a user's own, for typing and presence).
 */
export function broadcast(ctx: DurableObjectState, codecs: Codecs, frames: readonly object[], except?: ReadonlySet<WebSocket>): void {
  for (const proto of PROTOS) {
    const sockets = ctx.getWebSockets(CODEC_TAGS[proto]);
    if (sockets.length === 0) continue;
    const codec = codecs.for(proto);
    const data = frames.length === 1 ? codec.encode(frames[0]!) : codec.encodeBatch(frames);
    for (const ws of sockets) {
      if (except?.has(ws)) continue;
      trySend(ws, data);
    }
  }
}

/** The subprotocol to answer with: only one the client offered, or none. */
export function negotiated(request: Request): { protocol: Subprotocol; header: string | null } {
  const offered = request.headers.get("Sec-WebSocket-Protocol");
  const protocol = chooseSubprotocol(offered);
  // Echo only a protocol the client offered: answering one it did not ask for fails the handshake.
  const offeredIt = offered?.split(",").some((s) => s.trim() === protocol) ?? false;
  return { protocol, header: offeredIt ? protocol : null };
}

/**
 * What a 101 says about extensions: no permessage-deflate, whatever the client offered. Every
 * browser offers it, and the runtime accepts an offer unless the response names its own choice;
 * a value that is no valid agreement is declined at every hop (the Worker's, and under `wrangler
 * dev` its proxy's), and none reaches the client. Frames here are small (a message is 100 to 300
 * bytes), so deflate saves little, and it costs every socket about 230 KB of compression state and
 * every send a compression: measured under `wrangler dev` with sockets that offer it, 386 against
 * 154 KB a socket idle, and a room of 100's closed loop at a third of the messages a second
 * (BENCHMARKS.md, issue 17, thirteenth session). The compatibility flag `no_web_socket_compression`
 * would strip this header, and `wrangler dev`'s proxy would then agree to the offer itself.
 */
export const NO_WEBSOCKET_EXTENSIONS = "none";

export function upgradeResponse(client: WebSocket, request: Request): Response {
  const { header } = negotiated(request);
  const headers: Record<string, string> = { "Sec-WebSocket-Extensions": NO_WEBSOCKET_EXTENSIONS };
  if (header) headers["Sec-WebSocket-Protocol"] = header;
  return new Response(null, { status: 101, webSocket: client, headers });
}

/**
 * Accepts the upgrade and closes it at once with `code`: a browser sees the code (an HTTP error
 * before the upgrade would only show as a failed connection).
 */
export function refuseSocket(request: Request, code: number, reason: string): Response {
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  server.accept();
  server.close(code, reason);
  return upgradeResponse(client, request);
}

export function isUpgrade(request: Request): boolean {
  return request.headers.get("Upgrade")?.toLowerCase() === "websocket";
}

export const notForwarded = () => new Response("expected a websocket upgrade from the Worker", { status: 400 });
