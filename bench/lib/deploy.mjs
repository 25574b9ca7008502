// The app's own reconnection after a deploy (issue 17): every socket is closed by the server at
// once (wrangler dev reloads the frozen copy: a new workerd, every object reset, as a deploy
// does), and the web app's ReconnectingSocket (web/src/lib/socket.ts, its backoff and jitter
// untouched) brings each back with `since`, over Node's global WebSocket like a browser's, signed
// in by the session cookie like a browser. Measured: time until every socket is synced again,
// and the upgrades per second the server saw. That time is split at the first upgrade the new
// workerd accepts: before it, wrangler starts the new workerd (a deploy's new version starts on
// Cloudflare's side; wrangler holds the upgrades meanwhile); after it, the server takes the
// whole flood at once. (An HTTP probe of `/api/me` cannot tell the first part: it queues behind
// the held upgrades and answers only after them.)
import { setTimeout as sleep } from "node:timers/promises";
import { SeqCheck } from "./client.mjs";
import { body } from "./scenarios.mjs";
import { round, Samples } from "./stats.mjs";

let idCounter = 0;
const EVENT_TYPES = new Set(["msg", "edit", "delete", "react", "member"]);

/** The most timestamps within any window of `ms` (they are in ascending order). */
export function peakPer(times, ms = 1000) {
  let peak = 0;
  let from = 0;
  for (let i = 0; i < times.length; i++) {
    while (times[i] - times[from] >= ms) from++;
    peak = Math.max(peak, i - from + 1);
  }
  return peak;
}

/**
 * One conversation socket as the app holds it: the app's ReconnectingSocket, the URL with the
 * last applied seq (as web/src/models/session.ts builds it), `sync` on `synced.more`.
 */
class AppClient {
  order = new SeqCheck();
  /** Synced since the last (re)connection: `synced` without `more`. */
  synced = false;
  syncedAt = 0;
  closes = 0;
  closedAt = null;
  acks = 0;
  top = 0;
  errors = 0;

  constructor(appSocket, { base, room, member, log }) {
    this.room = room;
    this.socket = new appSocket.ReconnectingSocket({
      url: () => `${base}/chat/${encodeURIComponent(room.id)}${this.order.lastSeq < 0 ? "" : `?since=${this.order.lastSeq}`}`,
      onFrames: (values) => this.#frames(values),
      onState: (s) => {
        if (s === "waiting" || s === "connecting") this.synced = false;
        if (s === "waiting") {
          this.closes++;
          this.closedAt = performance.now();
        }
      },
      onFinal: (code) => { log.final.push(code); },
      create: (url, protocols) => {
        log.attempts.push(performance.now());
        const ws = new WebSocket(url, { protocols, headers: { Cookie: `session=${member.token}` } });
        ws.addEventListener("open", () => log.opens.push(performance.now()));
        return ws;
      },
    });
  }

  #frames(values) {
    for (const f of values) {
      if (EVENT_TYPES.has(f.t)) this.order.see(f.seq);
      else if (f.t === "ack") {
        this.acks++;
        this.top = Math.max(this.top, f.seq);
      } else if (f.t === "error") this.errors++;
      else if (f.t === "synced") {
        this.order.synced(f.lastSeq);
        if (f.more) this.socket.send({ t: "sync", since: this.order.lastSeq });
        else {
          this.synced = true;
          this.syncedAt = performance.now();
        }
      }
    }
  }
}

async function until(what, deadlineMs, check) {
  const end = performance.now() + deadlineMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`${what}: not done in ${Math.round(deadlineMs / 1000)} s`);
    await sleep(10);
  }
}

/**
 * 1. `socketsPerRoom` app sockets per room, started 50 at a time (each waits for its sync).
 * 2. Every socket sends one message, and waits for its room's last seq (a log to resume from).
 * 3. `reload()` (the deploy); the server closes every socket; the app's sockets come back.
 * Figures from the first close the clients saw to the last socket synced again at its room's
 * last seq; the attempts (handshakes started) and opens (101s) per second, at their peak.
 */
export async function deploy(appSocket, { base, rooms, socketsPerRoom, bodyChars, reload, deadlineSeconds }) {
  const log = { attempts: [], opens: [], final: [] };
  const clients = rooms.flatMap((room) =>
    Array.from({ length: socketsPerRoom }, (_, i) => new AppClient(appSocket, { base, room, member: room.members[i % room.members.length], log })),
  );
  try {
    const t0 = performance.now();
    for (let i = 0; i < clients.length; i += 50) {
      const batch = clients.slice(i, i + 50);
      for (const c of batch) c.socket.start();
      await until("connecting", deadlineSeconds * 1000, () => batch.every((c) => c.synced));
    }
    const connectMs = performance.now() - t0;
    const text = body(bodyChars);
    for (const c of clients) c.socket.send({ t: "send", id: `d${(idCounter++).toString(36)}`, body: text });
    const top = new Map();
    await until("exchange", deadlineSeconds * 1000, () => clients.every((c) => c.acks === 1));
    for (const c of clients) top.set(c.room, Math.max(top.get(c.room) ?? 0, c.top));
    await until("deliveries", deadlineSeconds * 1000, () => clients.every((c) => c.order.lastSeq >= top.get(c.room)));

    const before = { attempts: log.attempts.length, opens: log.opens.length };
    const closes0 = clients.map((c) => c.closes);
    const reloadAt = performance.now();
    await reload();
    await until("every socket closed by the server", deadlineSeconds * 1000, () => clients.every((c, i) => c.closes > closes0[i]));
    // The server's close reaches the clients within a few ms of each other: time from the first.
    const closedAt = Math.min(...clients.map((c) => c.closedAt));
    await until("every socket back and synced", deadlineSeconds * 1000, () => clients.every((c) => c.synced && c.order.lastSeq >= top.get(c.room)));
    const back = Math.max(...clients.map((c) => c.syncedAt));
    const attempts = log.attempts.slice(before.attempts);
    const opens = log.opens.slice(before.opens);
    const syncedAfter = new Samples();
    for (const c of clients) syncedAfter.push(c.syncedAt - reloadAt);
    let lost = 0;
    let dup = 0;
    let ooo = 0;
    for (const c of clients) {
      lost += c.order.lostUpTo(top.get(c.room));
      dup += c.order.dup;
      ooo += c.order.outOfOrder;
    }
    return {
      sockets: clients.length,
      rooms: rooms.length,
      connectMs: round(connectMs, 0),
      closedByServer: clients.filter((c, i) => c.closes > closes0[i]).length,
      allSyncedMs: round(back - closedAt, 0),
      reloadToAllSyncedMs: round(back - reloadAt, 0),
      syncedAfterReloadMs: syncedAfter.summary(),
      firstCloseMs: round(closedAt - reloadAt, 0),
      firstOpenMs: opens.length > 0 ? round(Math.min(...opens) - closedAt, 0) : null,
      firstOpenToAllSyncedMs: opens.length > 0 ? round(back - Math.min(...opens), 0) : null,
      attempts: attempts.length,
      failedAttempts: attempts.length - opens.length,
      peakAttemptsPerSecond: peakPer(attempts),
      peakOpensPerSecond: peakPer(opens),
      refusedForGood: log.final.length,
      errors: clients.reduce((n, c) => n + c.errors, 0),
      lost,
      duplicated: dup,
      outOfOrder: ooo,
    };
  } finally {
    for (const c of clients) c.socket.stop();
  }
}
