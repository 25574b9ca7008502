// One benchmark socket: decodes every server message with the project's codec (batches
// included), checks the event order it sees (each seq once, ascending, no gaps), counts bytes,
// and hands frames to whichever scenario listens (`sink`).
import WebSocket from "ws";

const EVENT_TYPES = new Set(["msg", "edit", "delete", "react", "member"]);

/** Bytes of a server-to-client websocket frame header (unmasked) for a payload of `n` bytes. */
export const wsHeaderBytes = (n) => (n < 126 ? 2 : n < 65536 ? 4 : 10);

/**
 * Whether sockets offer permessage-deflate, as every browser does (`--deflate` sets it): the
 * server's answer then decides whether frames are compressed. Off by default, so that runs stay
 * comparable with those recorded before the option.
 */
export const offerDeflate = () => process.env.BENCH_DEFLATE === "1";

/**
 * The order one client sees, from its `synced` on: each seq once, ascending, no gaps. Shared by
 * the bench's own sockets and the web app's reconnecting socket (bench/lib/deploy.mjs), which
 * carries it across reconnects as the app carries its last applied seq.
 */
export class SeqCheck {
  /** The highest seq applied; -1 until a `synced` (or a `since`) says where the log starts. */
  lastSeq = -1;
  dup = 0;
  outOfOrder = 0;
  #missing = new Set();

  /** Counts one event's seq. */
  see(seq) {
    if (this.lastSeq < 0) return; // before `synced`: the welcome's replay sets the start
    if (seq === this.lastSeq + 1) this.lastSeq = seq;
    else if (seq > this.lastSeq + 1) {
      for (let s = this.lastSeq + 1; s < seq && this.#missing.size < 100_000; s++) this.#missing.add(s);
      this.lastSeq = seq;
    } else if (this.#missing.delete(seq)) this.outOfOrder++;
    else this.dup++;
  }

  /** A `synced` frame: the start of the log when nothing was applied yet. */
  synced(lastSeq) {
    if (this.lastSeq < 0) this.lastSeq = lastSeq;
  }

  /** Seqs up to `upTo` never received (gaps and a missing tail). */
  lostUpTo(upTo) {
    return this.#missing.size + Math.max(0, upTo - this.lastSeq);
  }
}

export class BenchSocket {
  /** What went wrong with the order (see SeqCheck). */
  order = new SeqCheck();
  bytesIn = 0;
  messagesIn = 0;
  /**
   * Bytes of the `msg` frames received, each on its own (a batch counts its frames' bytes without
   * the JSON array's brackets and commas), and how many.
   */
  msgPayloadBytes = 0;
  msgPayloadCount = 0;
  /** Websocket messages that held `msg` frames: deliveries per message show the batching. */
  msgMessages = 0;
  bytesOut = 0;
  pongs = 0;
  sink = null;
  #synced = null;

  /**
   * @param url ws:// URL; @param protocol the subprotocol; @param codec from protocol/createCodec
   * @param opts.headers extra upgrade headers; opts.autoSync: ask for the rest on `synced.more`
   */
  constructor(url, protocol, codec, { headers = {}, autoSync = true, label = "" } = {}) {
    this.codec = codec;
    this.autoSync = autoSync;
    this.label = label;
    this.ws = new WebSocket(url, [protocol], { headers, perMessageDeflate: offerDeflate() });
    /** When the handshake started and when its 101 came (null until then): a storm's accept time. */
    this.startedAt = performance.now();
    this.upgradedAt = null;
    this.ws.once("upgrade", () => { this.upgradedAt = performance.now(); });
    this.opened = new Promise((resolve, reject) => {
      this.#synced = { resolve, reject };
      this.ws.once("unexpected-response", (_req, res) => reject(new Error(`${label}: upgrade answered ${res.statusCode}`)));
      this.ws.once("error", (err) => reject(err));
      this.ws.once("close", (code, reason) => reject(new Error(`${label}: closed ${code} ${reason}`)));
    });
    this.opened.catch(() => {});
    /** The close code once closed (by either side), else null. */
    this.closeCode = null;
    this.closed = new Promise((resolve) => this.ws.once("close", (code) => { this.closeCode = code; resolve(code); }));
    this.ws.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
  }

  #onMessage(data, isBinary) {
    const t = performance.now();
    this.bytesIn += data.length;
    this.messagesIn++;
    if (!isBinary && data.length === 4 && data.toString() === "pong") {
      this.pongs++;
      return;
    }
    const frames = this.codec.decodeAll(isBinary ? data : data.toString());
    if (frames.length > 0 && frames.every((f) => f.t === "msg")) {
      // msgpack frames lie back to back; a JSON batch is `[a,b,...]`: 2 + (n - 1) bytes of glue.
      const n = frames.length;
      this.msgPayloadBytes += isBinary || n === 1 ? data.length : data.length - 2 - (n - 1);
      this.msgPayloadCount += n;
      this.msgMessages++;
    }
    for (const f of frames) {
      if (EVENT_TYPES.has(f.t)) {
        this.order.see(f.seq);
        this.sink?.event(this, f, t);
      } else if (f.t === "ack") this.sink?.ack(this, f, t);
      else if (f.t === "synced") this.#onSynced(f);
      else if (f.t === "error") this.sink?.error?.(this, f, t);
      else this.sink?.other?.(this, f, t);
    }
  }

  get lastSeq() {
    return this.order.lastSeq;
  }
  get dup() {
    return this.order.dup;
  }
  get outOfOrder() {
    return this.order.outOfOrder;
  }

  #onSynced(f) {
    this.order.synced(f.lastSeq);
    this.sink?.synced?.(this, f);
    if (f.more && this.autoSync) this.send({ t: "sync", since: this.lastSeq });
    else if (!f.more) this.#synced?.resolve(this);
  }

  /** Seqs up to `upTo` this socket never received (gaps and a missing tail). */
  lostUpTo(upTo) {
    return this.order.lostUpTo(upTo);
  }

  /** Starts replaying after `since`: expects events then `synced`; the first seq is since + 1. */
  expectFrom(since) {
    this.order.lastSeq = since;
  }

  send(frame) {
    const data = this.codec.encode(frame);
    this.bytesOut += typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    this.ws.send(data);
  }

  ping() {
    this.ws.send("ping");
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    return this.closed;
  }
}

/**
 * Opens sockets with at most `concurrency` handshakes in flight; resolves when all are synced.
 * Past `deadlineSeconds` it closes what it opened and fails, saying how far it got.
 */
export async function openAll(specs, concurrency, deadlineSeconds = Infinity) {
  const out = [];
  let next = 0;
  let done = 0;
  let late = false;
  const t0 = performance.now();
  const worker = async () => {
    while (next < specs.length && !late) {
      const s = specs[next++]();
      out.push(s);
      await s.opened;
      done++;
    }
  };
  let timer;
  const deadline = new Promise((_, reject) => {
    if (deadlineSeconds === Infinity) return;
    timer = setTimeout(() => {
      late = true;
      reject(new Error(`connected ${done} of ${specs.length} sockets in ${deadlineSeconds} s (${Math.round(done / ((performance.now() - t0) / 1000))}/s)`));
    }, deadlineSeconds * 1000);
  });
  try {
    await Promise.race([Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker)), deadline]);
  } catch (err) {
    await Promise.all(out.map((s) => s.close()));
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/**
 * Pings every socket of `sockets()` once per `everyMs`, spread evenly, as the app does: the server
 * closes a socket silent for two heartbeat intervals (60 s by default), which a scenario on a
 * loaded machine can outlast. Returns a function that stops it.
 */
export function keepAlive(sockets, everyMs = 20_000) {
  const TICK = 100;
  let k = 0;
  const timer = setInterval(() => {
    const all = sockets();
    const due = Math.ceil((all.length * TICK) / everyMs);
    for (let i = 0; i < due && all.length > 0; i++) {
      const s = all[k++ % all.length];
      if (s.ws.readyState === WebSocket.OPEN) s.ping();
    }
  }, TICK);
  return () => clearInterval(timer);
}
