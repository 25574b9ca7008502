/**
 * The bare Durable Object reference for `npm run bench`: hibernatable sockets, one SQLite insert
 * per message, an ack, and one encode per codec per broadcast. It speaks the subset of the chat
 * protocol the load generator uses (send, ack, msg, sync, synced) so that the same generator
 * drives it with the same frames, and replays in pages of the same size as ours.
 */
import { DurableObject } from "cloudflare:workers";
import { decode, encode } from "@msgpack/msgpack";
import { concatBytes } from "../../protocol/codec";

interface Env {
  ROOMS: DurableObjectNamespace<BareRoom>;
}

const PAGE = 200;
const BATCH = 50;
/** Per isolate: counts how often an object was constructed, i.e. woken from hibernation. */
let constructed = 0;

type Frame = Record<string, unknown>;
type Proto = "m" | "j";

export class BareRoom extends DurableObject<Env> {
  #sql: SqlStorage;
  #seq: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    constructed++;
    this.#sql = ctx.storage.sql;
    this.#sql.exec("CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, id TEXT, sender TEXT, body TEXT, ts INTEGER)");
    this.#seq = this.#sql.exec<{ s: number | null }>("SELECT max(seq) AS s FROM messages").one().s ?? 0;
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const offered = request.headers.get("Sec-WebSocket-Protocol") ?? "";
    const proto: Proto = offered.includes("chat.v1.msgpack") || !offered.includes("chat.v1.json") ? "m" : "j";
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].serializeAttachment({ user: url.searchParams.get("user") ?? "anon", proto });
    const since = url.searchParams.get("since");
    this.#replay(pair[1], proto, since === null ? this.#seq : Number(since));
    const headers: Record<string, string> = offered ? { "Sec-WebSocket-Protocol": proto === "m" ? "chat.v1.msgpack" : "chat.v1.json" } : {};
    return new Response(null, { status: 101, webSocket: pair[0], headers });
  }

  #replay(ws: WebSocket, proto: Proto, since: number): void {
    const rows = this.#sql.exec<{ seq: number; id: string; sender: string; body: string; ts: number }>(
      "SELECT seq, id, sender, body, ts FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", since, PAGE).toArray();
    const frames: Frame[] = rows.map((r) => ({ t: "msg", seq: r.seq, id: r.id, from: r.sender, body: r.body, ts: r.ts }));
    for (let i = 0; i < frames.length; i += BATCH) ws.send(encodeAll(proto, frames.slice(i, i + BATCH)));
    const upTo = rows.length > 0 ? rows[rows.length - 1]!.seq : since;
    ws.send(encodeAll(proto, [{ t: "synced", lastSeq: upTo, more: upTo < this.#seq }]));
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const { user, proto } = ws.deserializeAttachment() as { user: string; proto: Proto };
    const frame = (typeof data === "string" ? JSON.parse(data) : decode(data)) as Frame;
    if (frame.t === "sync") return this.#replay(ws, proto, Number(frame.since));
    if (frame.t !== "send") return;
    const ts = Date.now();
    const seq = ++this.#seq;
    this.#sql.exec("INSERT INTO messages (seq, id, sender, body, ts) VALUES (?, ?, ?, ?, ?)", seq, String(frame.id), user, String(frame.body), ts);
    ws.send(encodeAll(proto, [{ t: "ack", id: frame.id, seq, ts }]));
    const msg = { t: "msg", seq, id: frame.id, from: user, body: frame.body, ts };
    const encoded: Partial<Record<Proto, string | Uint8Array>> = {};
    for (const s of this.ctx.getWebSockets()) {
      const p = (s.deserializeAttachment() as { proto: Proto }).proto;
      encoded[p] ??= encodeAll(p, [msg]);
      try {
        s.send(encoded[p]);
      } catch {
        // closed meanwhile
      }
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "");
    } catch {
      // already closed
    }
  }
}

function encodeAll(proto: Proto, frames: Frame[]): string | Uint8Array {
  if (proto === "j") return JSON.stringify(frames.length === 1 ? frames[0] : frames);
  return frames.length === 1 ? encode(frames[0]) : concatBytes(frames.map((f) => encode(f)));
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ ok: true, constructed });
    const room = /^\/chat\/([\w-]{1,64})$/.exec(url.pathname)?.[1];
    if (!room || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("not found", { status: 404 });
    return env.ROOMS.get(env.ROOMS.idFromName(room)).fetch(request);
  },
};
