// One member of a room on one socket: it applies events strictly in `seq` order, resumes with
// `since` = the last seq it applied, and (if it is a sender) sends numbered messages, each with a
// unique client id, resending what was not acknowledged, with the same id, after reconnecting.
// Everything it sees goes into its log, which the checker reads afterwards. Now and then it moves
// its read mark (`read`) and a sender deletes one of its acknowledged messages, so that the unread
// badges the derived-state checks compare (derived.mjs) are not trivial; the harness can pause it
// (socket closed, no reconnect: the user may go offline) and resume it.
import WebSocket from "ws";
import { sleep } from "./random.mjs";

/** Every body carries this mark, so that the log scan can find a body wherever it leaks. */
export const BODY_MARK = "zqbody";
/** The client's ping interval: well inside the server's silence limit (two of its HEARTBEAT_MS). */
export const HEARTBEAT_MS = 1000;
export const DEAD_AFTER_MS = 7000;
const WINDOW = 8;

/** What an event is, in a form that two copies of the same event compare equal by. */
export function eventKey(f) {
  switch (f.t) {
    // A deleted message is replayed with its body gone: compare it by sender and id only.
    case "msg": return f.deleted ? `msg|${f.from}|${f.id}|` : `msg|${f.from}|${f.id}|${f.body}`;
    case "member": return `member|${f.username}|${f.joined}`;
    case "edit": return `edit|${f.target}|${f.body}`;
    case "delete": return `delete|${f.target}`;
    case "react": return `react|${f.target}|${f.from}|${f.emoji}|${f.on}`;
    default: return `?|${f.t}`;
  }
}

/** Whether a key a client applied matches the log's event (a since-deleted message matches its live copy). */
export function sameEvent(appliedKey, logEvent) {
  const k = eventKey(logEvent);
  return logEvent.t === "msg" && logEvent.deleted ? appliedKey.startsWith(k) : appliedKey === k;
}

/** Socket opens and closes anywhere in the run: the derived-state checks wait for a quiet spell. */
export const activity = { lastChange: Date.now() };

const EVENT_TYPES = new Set(["msg", "member", "edit", "delete", "react"]);

export class Member {
  constructor({ name, token, room, baseUrl, protocol, proto, random, sender, stats }) {
    Object.assign(this, { name, token, room, baseUrl, protocol, proto, random, sender, stats });
    /** Paused by the harness: no socket, no reconnect. */
    this.paused = false;
    /** Moving the read mark now and then (off while the harness checks), for half the members:
     * the others' badges only ever grow, so a lost notification shows. */
    this.reader = random.chance(0.5);
    this.reading = true;
    /** The highest seq this client sent in a `read` frame. */
    this.readSent = 0;
    this.codec = protocol.createCodec(proto, protocol.DEFAULT_LIMITS);
    this.lastSeq = 0;
    /** seq -> key of every event applied, in order. */
    this.applied = [];
    this.buffer = new Map();
    this.violations = [];
    this.ws = null;
    this.stopped = false;
    this.sending = sender;
    this.nextN = 1;
    /** id -> { id, n, body, ack: {seq, ts} | null, abandoned, sends } */
    this.sent = new Map();
    this.unacked = [];
    this.backoff = 100;
    this.counts = { connects: 0, closes: 0, heartbeatKills: 0, wireDuplicates: 0, resends: 0, dupAcks: 0, sendFrames: 0, readFrames: 0, deleteFrames: 0 };
  }

  violation(kind, detail) {
    this.violations.push({ kind, member: this.name, room: this.room, detail });
  }

  start() {
    this.#connect();
    if (this.sender) this.#sendLoop();
    this.#readLoop();
  }

  #connect() {
    if (this.stopped || this.paused || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    this.counts.connects++;
    // What an earlier socket delivered ahead of a gap is replayed on this one (it asks from the
    // last seq applied): keeping it would apply it first and make the replay look like a repeat.
    this.buffer.clear();
    const url = `${this.baseUrl}/chat/${this.room}?since=${this.lastSeq}`;
    const ws = new WebSocket(url, [this.proto], { headers: { Authorization: `Bearer ${this.token}` }, handshakeTimeout: 8000 });
    const socket = { ws, phase: "connecting", heard: Date.now(), syncedAt: -1, ping: null };
    this.ws = ws;
    this.socket = socket;
    ws.on("message", (data, isBinary) => this.#onMessage(socket, data, isBinary));
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
    ws.on("error", () => {});
    ws.on("close", (code) => {
      activity.lastChange = Date.now();
      clearInterval(socket.ping);
      socket.phase = "closed";
      this.counts.closes++;
      if ([4401, 4403, 4404].includes(code)) this.violation("final_close", { code });
      if (this.stopped || this.paused) return;
      // A client that lost its outbox now and then: its unacked sends stay unacknowledged forever.
      if (this.sender && this.unacked.length > 0 && this.random.chance(0.05)) {
        for (const m of this.unacked) m.abandoned = true;
        this.unacked = [];
      }
      const wait = this.backoff / 2 + this.random.next() * this.backoff;
      this.backoff = Math.min(2000, this.backoff * 2);
      setTimeout(() => {
        if (this.ws === ws) this.#connect();
      }, wait);
    });
  }

  #onMessage(socket, data, isBinary) {
    socket.heard = Date.now();
    // A socket this client has already replaced (paused and resumed at once, like a page reload):
    // what it still delivers is ignored, as a real client that closed it would.
    if (socket !== this.socket) return;
    if (!isBinary && data.toString() === "pong") return;
    let frames;
    try {
      frames = this.codec.decodeAll(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString());
    } catch (err) {
      return this.violation("undecodable", String(err));
    }
    for (const f of frames) this.#onFrame(socket, f);
  }

  #onFrame(socket, f) {
    if (EVENT_TYPES.has(f.t)) return this.#onEvent(socket, f);
    switch (f.t) {
      case "welcome":
        socket.phase = "replay";
        this.backoff = 100;
        // Resend everything unacknowledged, in the order it was first sent, with the same ids.
        for (const m of this.unacked) {
          this.counts.resends++;
          this.#sendFrame(m);
        }
        return;
      case "synced":
        if (f.reset) this.violation("reset", { lastSeq: f.lastSeq, mine: this.lastSeq });
        if (f.more) {
          socket.phase = "catchup";
          // A backlog page that moved nothing forward would make this a tight loop: note it, slow down.
          const stuck = socket.syncedAt === this.lastSeq;
          if (stuck) this.violation("sync_without_progress", { lastSeq: this.lastSeq, synced: f.lastSeq });
          socket.syncedAt = this.lastSeq;
          const since = this.lastSeq;
          setTimeout(() => {
            if (socket.phase !== "closed") socket.ws.send(this.codec.encode({ t: "sync", since }));
          }, stuck ? 1000 : 0);
          return;
        }
        if (this.lastSeq < f.lastSeq || this.buffer.size > 0) {
          this.violation("synced_with_gap", { lastSeq: this.lastSeq, synced: f.lastSeq, buffered: [...this.buffer.keys()].slice(0, 5) });
        }
        socket.phase = "live";
        return;
      case "ack":
        return this.#onAck(f);
      case "error":
        return this.violation("error_frame", { code: f.code, message: f.message, id: f.id });
      default:
        return; // presence, typing, receipts: not part of the log
    }
  }

  #onEvent(socket, f) {
    // Nothing comes before `welcome` (PROTOCOL.md 3.1): the replay after it covers every event
    // after `since`, so an event ahead of it is noted and left to the replay.
    if (socket.phase === "connecting") return this.violation("event_before_welcome", { seq: f.seq, lastSeq: this.lastSeq });
    // Only while catching up (after `synced.more`) may an event come twice or early: a live one
    // that overtook the rest of the backlog. Replay and live delivery are exact (promise 3).
    const exact = socket.phase === "live" || socket.phase === "replay";
    if (f.seq <= this.lastSeq || this.buffer.has(f.seq)) {
      this.counts.wireDuplicates++;
      if (exact) this.violation(`duplicate_in_${socket.phase}`, { seq: f.seq, lastSeq: this.lastSeq });
      return;
    }
    if (f.seq !== this.lastSeq + 1) {
      if (exact) this.violation(`gap_in_${socket.phase}`, { seq: f.seq, lastSeq: this.lastSeq });
      this.buffer.set(f.seq, f);
      return;
    }
    this.#apply(f);
    while (this.buffer.has(this.lastSeq + 1)) {
      const next = this.buffer.get(this.lastSeq + 1);
      this.buffer.delete(next.seq);
      this.#apply(next);
    }
  }

  #apply(f) {
    this.lastSeq = f.seq;
    this.applied.push({ seq: f.seq, key: eventKey(f) });
  }

  #onAck(f) {
    const m = this.sent.get(f.id);
    if (!m) return this.violation("ack_for_unknown_id", f);
    if (f.dup) this.counts.dupAcks++;
    if (m.ack && m.ack.seq !== f.seq) this.violation("ack_seq_changed", { id: f.id, first: m.ack.seq, now: f.seq });
    if (!m.ack) m.ack = { seq: f.seq, ts: f.ts, dup: f.dup === true };
    this.unacked = this.unacked.filter((u) => u !== m);
  }

  #sendFrame(m) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    m.sends++;
    this.counts.sendFrames++;
    this.ws.send(this.codec.encode({ t: "send", id: m.id, body: m.body }));
  }

  async #sendLoop() {
    while (!this.stopped) {
      await sleep(this.random.int(40, 160));
      if (!this.sending || this.paused || this.unacked.length >= WINDOW || this.socket?.phase !== "live") continue;
      // Now and then, delete one of my acknowledged messages (not resent if the frame is lost:
      // the log says whether it happened).
      if (this.random.chance(0.03)) {
        const mine = [...this.sent.values()].filter((m) => m.ack && !m.deleteSent);
        if (mine.length > 0) {
          const m = this.random.pick(mine.slice(-30));
          m.deleteSent = true;
          this.counts.deleteFrames++;
          this.ws.send(this.codec.encode({ t: "delete", target: m.ack.seq }));
          continue;
        }
      }
      const n = this.nextN++;
      const m = { id: `${this.name}-${n}`, n, body: `${BODY_MARK} ${this.name} #${n} ${this.random.next().toString(36).slice(2, 10)}`, ack: null, abandoned: false, sends: 0 };
      this.sent.set(m.id, m);
      this.unacked.push(m);
      this.#sendFrame(m);
    }
  }

  /** Moves the read mark to a little before (or at) the last seq applied, every 1 to 4 s. */
  async #readLoop() {
    while (!this.stopped) {
      await sleep(this.random.int(1000, 4000));
      if (!this.reader || !this.reading || this.paused || this.socket?.phase !== "live") continue;
      const seq = Math.max(0, this.lastSeq - this.random.int(0, 6));
      if (seq <= this.readSent) continue;
      this.readSent = seq;
      this.counts.readFrames++;
      try {
        this.ws.send(this.codec.encode({ t: "read", seq }));
      } catch {
        // closing
      }
    }
  }

  /** Closes the socket (a normal close, or abruptly) and stays away until resumed. */
  pause(abrupt) {
    this.paused = true;
    // What the closing socket still delivers is not a live stream any more (a resume may already
    // have replayed it on the next one).
    if (this.socket) this.socket.phase = "closed";
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

  /** The socket is open as far as this client knows (the server may count it as a connection). */
  get open() {
    return !this.paused && this.ws?.readyState === WebSocket.OPEN;
  }

  /** Ends the socket abruptly (no close frame): the client reconnects as after any failure. */
  kill() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) {
      this.ws.terminate();
      return true;
    }
    return false;
  }

  get live() {
    return this.socket?.phase === "live";
  }

  stop() {
    this.stopped = true;
    this.sending = false;
    this.ws?.terminate();
  }
}
