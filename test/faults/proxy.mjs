// A TCP proxy on loopback between the load clients and wrangler dev, through which the harness
// cuts connections (all, one, or in the middle of a websocket frame), holds them silently
// (a black hole the client must notice by its heartbeat) and delays traffic, in order.
import net from "node:net";

export class FaultProxy {
  constructor({ port, targetPort, random }) {
    Object.assign(this, { port, targetPort, random });
    this.conns = new Set();
    this.delayMs = 0;
    this.server = null;
  }

  start() {
    this.server = net.createServer((client) => this.#accept(client));
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.port, "127.0.0.1", resolve);
    });
  }

  async stop() {
    for (const c of this.conns) this.#destroy(c);
    await new Promise((resolve) => this.server.close(resolve));
  }

  #accept(client) {
    const upstream = net.connect(this.targetPort, "127.0.0.1");
    const conn = { client, upstream, held: false, cutMid: false, upChunks: 0, queues: { up: [], down: [] }, timers: { up: null, down: null }, dead: false };
    this.conns.add(conn);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on("data", (chunk) => {
      if (conn.dead || conn.held) return;
      conn.upChunks++;
      // The first chunk is the upgrade request; later ones are websocket frames.
      if (conn.cutMid && conn.upChunks > 1 && chunk.length > 1) {
        const part = chunk.subarray(0, Math.max(1, Math.floor(chunk.length / 2)));
        upstream.write(part, () => this.#destroy(conn));
        return;
      }
      this.#forward(conn, "up", chunk);
    });
    upstream.on("data", (chunk) => {
      if (conn.dead || conn.held) return;
      this.#forward(conn, "down", chunk);
    });
    const end = () => this.#destroy(conn);
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
  }

  #forward(conn, dir, chunk) {
    const q = conn.queues[dir];
    if (this.delayMs === 0 && q.length === 0) return this.#write(conn, dir, chunk);
    q.push({ at: Date.now() + this.delayMs, chunk });
    this.#pump(conn, dir);
  }

  #write(conn, dir, chunk) {
    (dir === "up" ? conn.upstream : conn.client).write(chunk);
  }

  #pump(conn, dir) {
    if (conn.timers[dir] || conn.dead) return;
    const q = conn.queues[dir];
    const now = Date.now();
    while (q.length > 0 && q[0].at <= now) this.#write(conn, dir, q.shift().chunk);
    if (q.length > 0) {
      conn.timers[dir] = setTimeout(() => {
        conn.timers[dir] = null;
        this.#pump(conn, dir);
      }, q[0].at - now);
    }
  }

  #destroy(conn) {
    if (conn.dead) return;
    conn.dead = true;
    clearTimeout(conn.timers.up);
    clearTimeout(conn.timers.down);
    conn.client.destroy();
    conn.upstream.destroy();
    this.conns.delete(conn);
  }

  #live() {
    return [...this.conns].filter((c) => !c.dead && !c.held);
  }

  /** Cuts every connection. Returns how many. */
  cutAll() {
    const live = [...this.conns];
    for (const c of live) this.#destroy(c);
    return live.length;
  }

  cutOne() {
    const live = this.#live();
    if (live.length === 0) return false;
    this.#destroy(this.random.pick(live));
    return true;
  }

  /** The next frame a client sends on one connection gets there only in half; then both ends drop. */
  cutMidFrame() {
    const live = this.#live().filter((c) => !c.cutMid);
    if (live.length === 0) return false;
    this.random.pick(live).cutMid = true;
    return true;
  }

  /** One connection goes silent both ways without closing: only a heartbeat can tell. */
  blackHole() {
    const live = this.#live();
    if (live.length === 0) return false;
    this.random.pick(live).held = true;
    return true;
  }

  /** Delays every byte by `ms` for `forMs`, order kept. */
  delay(ms, forMs) {
    this.delayMs = ms;
    clearTimeout(this.delayTimer);
    this.delayTimer = setTimeout(() => {
      this.delayMs = 0;
    }, forMs);
  }

  /** Ends the delay, and drops the held connections and those set to be cut mid-frame (their clients reconnect). */
  calm() {
    clearTimeout(this.delayTimer);
    this.delayMs = 0;
    for (const c of [...this.conns]) if (c.held || c.cutMid) this.#destroy(c);
  }
}
