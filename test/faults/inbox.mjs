// One user's inbox socket (`/inbox`, PROTOCOL.md 3.2): it keeps what a side bar would show, the
// unread badge of each conversation and who is online, from the `inbox` frame it gets on every
// connect and the `activity`, `read`, `presence`, `joined` and `left` frames after it. The
// derived-state checks (derived.mjs) compare that with the truth. It reconnects after every
// failure, pings like the conversation clients, and the harness can pause and resume it.
import WebSocket from "ws";
import { activity, DEAD_AFTER_MS, HEARTBEAT_MS } from "./client.mjs";

export class Inbox {
  constructor({ name, token, baseUrl, protocol, proto, random }) {
    Object.assign(this, { name, token, baseUrl, protocol, proto, random });
    this.codec = protocol.createCodec(proto, protocol.DEFAULT_LIMITS);
    this.ws = null;
    this.stopped = false;
    this.paused = true;
    /** The `inbox` frame has arrived on the current socket: the state below is this socket's. */
    this.ready = false;
    /** conv id -> { unread, readSeq, lastSeq } as this inbox shows it. */
    this.convs = new Map();
    this.online = new Set();
    this.backoff = 100;
    this.violations = [];
    this.counts = { connects: 0, closes: 0, heartbeatKills: 0, frames: 0 };
  }

  violation(kind, detail) {
    this.violations.push({ kind, member: this.name, detail });
  }

  #connect() {
    if (this.stopped || this.paused || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    this.counts.connects++;
    this.ready = false;
    const ws = new WebSocket(`${this.baseUrl}/inbox`, [this.proto], { headers: { Authorization: `Bearer ${this.token}` }, handshakeTimeout: 8000 });
    const socket = { heard: Date.now(), ping: null };
    this.ws = ws;
    ws.on("open", () => {
      activity.lastChange = Date.now();
      socket.heard = Date.now();
      socket.ping = setInterval(() => {
        if (Date.now() - socket.heard > DEAD_AFTER_MS) {
          this.counts.heartbeatKills++;
          ws.terminate();
          return;
        }
        try { ws.send("ping"); } catch { /* closing */ }
      }, HEARTBEAT_MS);
    });
    ws.on("message", (data, isBinary) => {
      socket.heard = Date.now();
      if (this.ws !== ws) return;
      if (!isBinary && data.toString() === "pong") return;
      let frames;
      try {
        frames = this.codec.decodeAll(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString());
      } catch (err) {
        return this.violation("inbox_undecodable", String(err));
      }
      for (const f of frames) this.#onFrame(f);
    });
    ws.on("error", () => {});
    ws.on("close", (code) => {
      activity.lastChange = Date.now();
      clearInterval(socket.ping);
      this.counts.closes++;
      if (this.ws === ws) this.ready = false;
      if ([4401, 4403, 4404].includes(code)) this.violation("inbox_final_close", { code });
      if (this.stopped || this.paused) return;
      const wait = this.backoff / 2 + this.random.next() * this.backoff;
      this.backoff = Math.min(2000, this.backoff * 2);
      setTimeout(() => {
        if (this.ws === ws) this.#connect();
      }, wait);
    });
  }

  #onFrame(f) {
    this.counts.frames++;
    switch (f.t) {
      case "inbox":
        this.backoff = 100;
        this.convs = new Map(f.conversations.map((s) => [s.id, { unread: s.unread, readSeq: s.readSeq, lastSeq: s.lastSeq }]));
        this.online = new Set(f.online);
        this.ready = true;
        return;
      case "activity": {
        const c = this.convs.get(f.conv);
        if (!c) return this.violation("activity_for_unknown_conversation", { conv: f.conv, seq: f.seq });
        c.unread = f.unread;
        c.lastSeq = Math.max(c.lastSeq, f.seq);
        return;
      }
      case "read": {
        const c = this.convs.get(f.conv);
        if (!c) return this.violation("read_for_unknown_conversation", { conv: f.conv, seq: f.seq });
        c.unread = f.unread;
        c.readSeq = Math.max(c.readSeq, f.seq);
        return;
      }
      case "presence":
        if (f.online) this.online.add(f.username);
        else this.online.delete(f.username);
        return;
      case "joined":
        this.convs.set(f.conversation.id, { unread: f.conversation.unread, readSeq: f.conversation.readSeq, lastSeq: f.conversation.lastSeq });
        return;
      case "left":
        this.convs.delete(f.conv);
        return;
      case "error":
        return this.violation("inbox_error_frame", { code: f.code, message: f.message });
      default:
        return;
    }
  }

  start() {
    this.resume();
  }

  pause(abrupt) {
    this.paused = true;
    this.ready = false;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) {
      if (abrupt) this.ws.terminate();
      else this.ws.close(1000, "away");
    }
  }

  resume() {
    if (!this.paused) return;
    this.paused = false;
    this.backoff = 100;
    this.#connect();
  }

  kill() {
    if (!this.paused && this.ws && this.ws.readyState <= WebSocket.OPEN) {
      this.ws.terminate();
      return true;
    }
    return false;
  }

  get open() {
    return !this.paused && this.ws?.readyState === WebSocket.OPEN;
  }

  /** Open and its `inbox` frame applied: what it shows can be compared. */
  get live() {
    return this.open && this.ready;
  }

  stop() {
    this.stopped = true;
    this.ws?.terminate();
  }
}
