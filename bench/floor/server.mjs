// The floor reference for `npm run bench`: a plain `ws` broadcast server in Node, in memory.
// It speaks the same subset of the chat protocol as bench/bare (send, ack, msg, sync, synced)
// with the same codecs, so that the generator drives all three the same way.
// Usage: node bench/floor/server.mjs PORT
import { encode, decode } from "@msgpack/msgpack";
import { WebSocketServer } from "ws";

const PAGE = 200;
const BATCH = 50;
const port = Number(process.argv[2] ?? 8802);
/** room name -> { log: frames, sockets } */
const rooms = new Map();

const encodeAll = (proto, frames) =>
  proto === "j" ? JSON.stringify(frames.length === 1 ? frames[0] : frames) : Buffer.concat(frames.map((f) => encode(f)));

function replay(ws, room, since) {
  const page = room.log.slice(since, since + PAGE); // log[i] has seq i + 1
  for (let i = 0; i < page.length; i += BATCH) ws.send(encodeAll(ws.proto, page.slice(i, i + BATCH)));
  const upTo = since + page.length;
  ws.send(encodeAll(ws.proto, [{ t: "synced", lastSeq: upTo, more: upTo < room.log.length }]));
}

const wss = new WebSocketServer({
  host: "127.0.0.1",
  port,
  handleProtocols: (offered) => (offered.has("chat.v1.msgpack") ? "chat.v1.msgpack" : offered.has("chat.v1.json") ? "chat.v1.json" : false),
});

wss.on("connection", (ws, req) => {
  const url = new URL(req.url ?? "/", "http://x");
  const name = /^\/chat\/([\w-]{1,64})$/.exec(url.pathname)?.[1];
  if (!name) return ws.close(4404, "no such room");
  if (!rooms.has(name)) rooms.set(name, { log: [], sockets: new Set() });
  const room = rooms.get(name);
  ws.proto = ws.protocol === "chat.v1.json" ? "j" : "m";
  ws.user = url.searchParams.get("user") ?? "anon";
  room.sockets.add(ws);
  ws.on("close", () => room.sockets.delete(ws));
  const since = url.searchParams.get("since");
  replay(ws, room, since === null ? room.log.length : Number(since));
  ws.on("message", (data, isBinary) => {
    if (!isBinary && data.toString() === "ping") return ws.send("pong");
    const frame = isBinary ? decode(data) : JSON.parse(data.toString());
    if (frame.t === "sync") return replay(ws, room, Number(frame.since));
    if (frame.t !== "send") return;
    const ts = Date.now();
    const msg = { t: "msg", seq: room.log.length + 1, id: frame.id, from: ws.user, body: frame.body, ts };
    room.log.push(msg);
    ws.send(encodeAll(ws.proto, [{ t: "ack", id: frame.id, seq: msg.seq, ts }]));
    const encoded = { m: null, j: null };
    for (const s of room.sockets) {
      encoded[s.proto] ??= encodeAll(s.proto, [msg]);
      s.send(encoded[s.proto]);
    }
  });
});

wss.on("listening", () => console.log(`floor listening on 127.0.0.1:${port}`));
process.on("SIGTERM", () => process.exit(0));
