// The measurements. Each takes a Target and returns plain figures (ms, counts, rates, bytes).
import { setTimeout as sleep } from "node:timers/promises";
import { openAll, wsHeaderBytes } from "./client.mjs";
import { cpuMeter, cpuSeconds, diskWriteBytes, objectCloseMeter, objectWatch, rssBytes } from "./proc.mjs";
import { round, Samples } from "./stats.mjs";

/** BENCH_TRACE=1 prints every ack slower than 50 ms; BENCH_TRACE=20, slower than 20 ms. */
const TRACE_MS = process.env.BENCH_TRACE ? (Number(process.env.BENCH_TRACE) > 1 ? Number(process.env.BENCH_TRACE) : 50) : null;

export const CONNECT_CONCURRENCY = 50;
/** Sends in flight while filling a catch-up room (more in flight, fewer commits per message). */
const SEED_WINDOW = 400;
let idCounter = 0;

/** A body of `chars` characters that does not compress to nothing. */
export function body(chars) {
  const words = "the quick brown fox jumps over a lazy dog while edge chat fans out every message";
  let s = "";
  while (s.length < chars) s += `${words} `;
  return s.slice(0, chars);
}

/**
 * `sockets` sockets spread over the room's members (round robin); with `since`, each replays
 * from there. Returns them synced.
 */
export function connectRoom(target, room, sockets, proto, { since, deadline } = {}) {
  // `proto` may be a list: the sockets take its codecs in turn (a room of mixed clients).
  const protos = Array.isArray(proto) ? proto : [proto];
  const specs = Array.from({ length: sockets }, (_, i) => () => {
    const p = protos[i % protos.length];
    return target.socket(room, room.members[i % room.members.length], p.name, p.codec, { since });
  });
  return openAll(specs, CONNECT_CONCURRENCY, deadline);
}

/**
 * Sends into every room and follows each message to every socket of its room.
 * mode "closed": `window` sends outstanding per room, the next on each ack (throughput).
 * mode "open": `rate` sends a second per room on a fixed schedule; latency counts from the
 * scheduled time, so a server that falls behind is charged for it (no coordinated omission).
 */
export async function drive(target, rooms, { mode, window = 50, rate = 100, seconds, warmup, bodyChars }) {
  const text = body(bodyChars);
  const ack = new Samples();
  const fan = new Samples();
  const last = new Samples();
  const pending = new Map(); // id -> { t0, n, of }
  const lastAcked = new Map(); // room -> highest acked seq
  let inWindow = false;
  let running = true;
  let sent = 0;
  let acked = 0;
  let ackedInWindow = 0;
  let deliveredInWindow = 0;
  let errors = 0;
  let measureStart = 0;

  const sendOne = (r, t0) => {
    const id = `m${(idCounter++).toString(36)}`;
    pending.set(id, { t0, n: 0, of: r.sockets.length, room: r });
    r.outstanding++;
    sent++;
    r.sender.send({ t: "send", id, body: text });
  };

  const sink = {
    event(_s, f, t) {
      if (f.t !== "msg") return;
      const rec = pending.get(f.id);
      if (!rec) return;
      if (inWindow) deliveredInWindow++;
      if (t >= measureStart) fan.push(t - rec.t0);
      if (++rec.n === rec.of) {
        if (t >= measureStart) last.push(t - rec.t0);
        if (rec.acked) pending.delete(f.id);
      }
    },
    ack(_s, f, t) {
      const rec = pending.get(f.id);
      if (!rec) return;
      rec.acked = true;
      acked++;
      if (inWindow) ackedInWindow++;
      if (t >= measureStart) ack.push(t - rec.t0);
      if (TRACE_MS !== null && t - rec.t0 > TRACE_MS) console.error(`  slow ack: sent at ${Math.round(rec.t0 - start)} ms (clock ${(Date.now() - (t - rec.t0)) / 1000}), took ${Math.round(t - rec.t0)} ms`);
      const r = rec.room;
      r.outstanding--;
      lastAcked.set(r, Math.max(lastAcked.get(r) ?? 0, f.seq));
      if (rec.n === rec.of) pending.delete(f.id);
      if (mode === "closed" && running) sendOne(r, performance.now());
    },
    error(_s, f) {
      errors++;
      if (errors <= 3) console.error(`  ${target.label}: error frame ${f.code}: ${f.message}`);
    },
  };
  for (const r of rooms) for (const s of r.sockets) s.sink = sink;
  for (const r of rooms) r.outstanding = 0;

  const bytes0 = rooms.map((r) => r.sockets.map((s) => s.bytesIn));
  const start = performance.now();
  measureStart = start + warmup * 1000;
  let timer = null;
  if (mode === "closed") {
    for (const r of rooms) for (let i = 0; i < window; i++) sendOne(r, performance.now());
  } else {
    // One scheduler for all rooms: every tick sends whatever is due.
    const perRoom = rooms.map(() => 0);
    timer = setInterval(() => {
      const now = performance.now();
      if (!running) return;
      rooms.forEach((r, i) => {
        const due = Math.floor(((now - start) / 1000) * rate);
        while (perRoom[i] < due) sendOne(r, start + (perRoom[i]++ * 1000) / rate);
      });
    }, 1);
  }
  await sleep(warmup * 1000);
  const gen0 = process.cpuUsage();
  const server = cpuMeter(target.cpuPids);
  const worker = cpuMeter([target.workerPid]);
  // What reaches the disk (SQLite's WAL and its checkpoints), per message acked.
  const disk0 = diskWriteBytes(target.workerPid);
  // The other servers' processes share the servers' core: what they use in this window is time
  // this server could not run (work left behind by earlier scenarios, timers, wrangler itself).
  const others = target.neighbourPids?.() ?? [];
  const neighbours = cpuMeter(others.map(([, p]) => p));
  const closes = objectCloseMeter(target.workerPid);
  inWindow = true;
  await sleep(seconds * 1000);
  inWindow = false;
  const serverCpu = server.stop();
  const workerCpu = worker.stop();
  const neighbourCpu = neighbours.stop();
  const disk1 = diskWriteBytes(target.workerPid);
  const objects = closes.stop();
  const genUse = process.cpuUsage(gen0);
  running = false;
  if (timer) clearInterval(timer);
  // Drain: every send acked and every delivery in, or give up after a while.
  const until = performance.now() + 6_000;
  while (performance.now() < until && (pending.size > 0 || rooms.some((r) => r.outstanding > 0))) await sleep(20);
  await sleep(100);

  let lost = 0;
  let dup = 0;
  let ooo = 0;
  for (const r of rooms) {
    const upTo = lastAcked.get(r) ?? 0;
    for (const s of r.sockets) {
      lost += s.lostUpTo(upTo);
      dup += s.dup;
      ooo += s.outOfOrder;
    }
  }
  const unacked = rooms.reduce((n, r) => n + r.outstanding, 0);
  const members = rooms.reduce((n, r) => n + r.sockets.length, 0);
  const recv = rooms.flatMap((r) => r.sockets);
  const payload = recv.reduce((n, s) => n + s.msgPayloadBytes, 0);
  const count = recv.reduce((n, s) => n + s.msgPayloadCount, 0);
  const perMsg = count > 0 ? payload / count : null;
  // By codec, for rooms that mix them.
  const byCodec = {};
  for (const s of recv) {
    byCodec[s.codec.protocol] ??= { payload: 0, count: 0 };
    const c = byCodec[s.codec.protocol];
    c.payload += s.msgPayloadBytes;
    c.count += s.msgPayloadCount;
  }
  const msgFrameBytesByCodec = Object.fromEntries(Object.entries(byCodec).filter(([, c]) => c.count > 0).map(([k, c]) => [k, round(c.payload / c.count, 1)]));
  const wsMessages = recv.reduce((n, s) => n + s.msgMessages, 0);
  const bytesIn = rooms.reduce((n, r, i) => n + r.sockets.reduce((m, s, j) => m + s.bytesIn - bytes0[i][j], 0), 0);
  const sendFrame = rooms[0].sender.codec.encode({ t: "send", id: "m0000", body: text });
  return {
    mode,
    rooms: rooms.length,
    sockets: members,
    window: mode === "closed" ? window : null,
    offeredPerSecond: mode === "open" ? rate * rooms.length : null,
    seconds,
    sent,
    acked,
    messagesPerSecond: round(ackedInWindow / seconds, 1),
    deliveriesPerSecond: round(deliveredInWindow / seconds, 0),
    ackMs: ack.summary(),
    fanoutMs: fan.summary(),
    lastMemberMs: last.summary(),
    lost,
    duplicated: dup,
    outOfOrder: ooo,
    unacked,
    errors,
    msgFrameBytes: round(perMsg, 1),
    msgFrameBytesByCodec,
    msgWireBytes: perMsg === null ? null : round(perMsg + wsHeaderBytes(perMsg), 1),
    msgFramesPerWsMessage: wsMessages > 0 ? round(count / wsMessages, 2) : null,
    sendFrameBytes: typeof sendFrame === "string" ? Buffer.byteLength(sendFrame) : sendFrame.byteLength,
    bytesInPerSecond: round(bytesIn / (seconds + warmup), 0),
    serverCores: round(serverCpu.cores, 3),
    workerCores: round(workerCpu.cores, 3),
    neighbourCores: round(neighbourCpu.cores, 3),
    neighbourCoresBy: coresByName(others, neighbourCpu),
    objectsAwakeAtStart: objects.atStart,
    objectsClosed: objects.closed,
    objectsClosedBy: objects.closedBy,
    diskKBPerMessage: disk0 !== null && disk1 !== null && ackedInWindow > 0 ? round((disk1 - disk0) / 1024 / ackedInWindow, 2) : null,
    serverCpuUsPerMessage: ackedInWindow > 0 ? round((serverCpu.seconds * 1e6) / ackedInWindow, 1) : null,
    generatorCores: round((genUse.user + genUse.system) / 1e6 / serverCpu.wall, 3),
  };
}

/** A meter's CPU by process name (a server's wrangler runs several node processes). */
export function coresByName(named, cpu) {
  const by = {};
  named.forEach(([name], i) => {
    by[name] = (by[name] ?? 0) + cpu.used[i] / cpu.wall;
  });
  return Object.fromEntries(Object.entries(by).filter(([, c]) => c > 0).map(([k, c]) => [k, round(c, 3)]));
}

/**
 * Waits until the server is quiet (under `cores` of CPU over half a second), at most `maxSeconds`:
 * work a scenario leaves behind (closing sockets, presence, notifications) must not be billed to
 * the next one. Returns the seconds waited.
 */
export async function settle(target, { cores = 0.05, maxSeconds = 20, quietMs = 1500 } = {}) {
  const t0 = performance.now();
  // Quiet for longer than any deferral of ours (presence and notification rounds wait up to 1 s
  // before they start): a short quiet window can fall just before such work begins.
  while ((performance.now() - t0) / 1000 < maxSeconds) {
    const m = cpuMeter(target.cpuPids);
    await sleep(quietMs);
    if (m.stop().cores < cores) break;
  }
  return round((performance.now() - t0) / 1000, 1);
}

/**
 * Waits until the server put no object in or out of memory for `idleMs` (at most `maxSeconds`),
 * then returns the seconds waited and how many objects it closed meanwhile (and of which class).
 * A connect wakes objects besides the room (ours: each member's object, and the conversations it
 * tells that the member is online); `wrangler dev` closes an object about ten seconds after its
 * last event, and each close checkpoints the object's WAL on the thread every object shares. A
 * window that starts when the CPU is quiet still takes those closes a few seconds later: what it
 * measures is then the aftermath of a hundred people connecting, not a steady room. The wait is
 * the same for every server; the closes it saw are reported beside the figures.
 */
export async function settleObjects(target, { idleMs = 12_000, maxSeconds = 40, everyMs = 250 } = {}) {
  const t0 = performance.now();
  const watch = objectWatch(target.workerPid);
  let lastChange = t0;
  while (performance.now() - lastChange < idleMs && performance.now() - t0 < maxSeconds * 1000) {
    await sleep(everyMs);
    if (watch.look()) lastChange = performance.now();
  }
  return { seconds: round((performance.now() - t0) / 1000, 1), closed: watch.closed, closedBy: watch.closedBy };
}

/** Scales the quiet windows (a quick run, which only checks the tool, shortens them). */
export const settleScale = { ours: 1, references: 1 };

/** How long the server must stay quiet: ours defers work (presence, notifications) by up to 1 s. */
export function quietFor(target, ms) {
  return target.server.kind.startsWith("ours") ? Math.round(ms * settleScale.ours) : Math.round(500 * settleScale.references);
}

/** Rooms connected, driven, closed: one scenario row. */
export async function fanout(target, proto, rooms, opts) {
  const live = [];
  try {
    const t0 = performance.now();
    // One deadline for all the rooms' sockets together.
    const left = () => Math.max(1, (opts.connectDeadline ?? Infinity) - (performance.now() - t0) / 1000);
    for (const room of rooms) {
      try {
        const sockets = await connectRoom(target, room, opts.socketsPerRoom, proto, { deadline: left() });
        live.push({ room, sockets, sender: sockets[0] });
      } catch (err) {
        const open = live.reduce((n, r) => n + r.sockets.length, 0);
        throw new Error(`${open} of ${rooms.length * opts.socketsPerRoom} sockets connected in ${opts.connectDeadline} s; then ${err instanceof Error ? err.message : err}`);
      }
    }
    const connectMs = round(performance.now() - t0, 0);
    // Connecting has its own figure: the work it leaves behind (presence) is not billed to the
    // steady rate measured next.
    const settledAfterConnect = await settle(target, { quietMs: quietFor(target, 1500) });
    // A steady window (opts.steady) also waits out the objects the connect woke (settleObjects).
    const objectsAfterConnect = opts.steady ? await settleObjects(target, { idleMs: Math.round(12_000 * settleScale.references) }) : null;
    return { connectMs, settledAfterConnect, objectsAfterConnect, ...(await drive(target, live, opts)) };
  } finally {
    await Promise.all(live.flatMap((r) => r.sockets.map((s) => s.close())));
  }
}

/**
 * Time to catch up `events` missed messages: they are stored first (sent by the room's only
 * member, closed loop), then a new socket connects with `since` and asks for every page.
 */
export async function catchUp(target, proto, room, { events, bodyChars, beforeReconnect, afterReconnect, seeded }) {
  const seed = seeded ?? (await seedCatchUp(target, proto, room, { events, bodyChars }));
  const { since, upTo } = seed;
  // The messages were missed a while ago: work they left behind (notifications) is not replay.
  await settle(target, { quietMs: quietFor(target, 2500) });
  await beforeReconnect?.();
  let pages = 0;
  let received = 0;
  const worker = cpuMeter([target.workerPid]);
  const t1 = performance.now();
  const s = target.socket(room, room.members[0], proto.name, proto.codec, { since });
  // Where the time goes: the upgrade (authentication, the object's welcome), then each page.
  let upgradedAt = t1;
  s.ws.once("upgrade", () => { upgradedAt = performance.now(); });
  const pageMs = new Samples();
  let lastPageAt = 0;
  s.sink = {
    event() {
      received++;
    },
    ack() {},
    synced() {
      const now = performance.now();
      pageMs.push(now - (lastPageAt || upgradedAt));
      lastPageAt = now;
      pages++;
    },
  };
  await s.opened;
  const catchUpMs = performance.now() - t1;
  const cpu = worker.stop();
  await afterReconnect?.();
  const lost = s.lostUpTo(upTo);
  await s.close();
  // Once more, now that every object on the path is awake: the difference is the wake.
  const t2 = performance.now();
  const again = target.socket(room, room.members[0], proto.name, proto.codec, { since: upTo });
  let againUpgradedAt = t2;
  again.ws.once("upgrade", () => { againUpgradedAt = performance.now(); });
  again.sink = { event() {}, ack() {}, synced() {} };
  await again.opened;
  await again.close();
  return {
    events,
    seedMs: seed.seedMs,
    seedPerSecond: seed.seedPerSecond,
    catchUpMs: round(catchUpMs, 1),
    upgradeMs: round(upgradedAt - t1, 1),
    warmUpgradeMs: round(againUpgradedAt - t2, 1),
    pageMs: pageMs.summary(),
    pages,
    received,
    lost,
    duplicated: s.dup,
    outOfOrder: s.outOfOrder,
    workerCpuMs: round(cpu.seconds * 1000, 0),
  };
}

/**
 * Idle sockets: time to connect them all, memory per socket, and CPU while they only ping.
 * Then one send into some rooms: its ack latency against a second, warm one shows whether the
 * objects had been evicted (hibernated) and had to wake. `wakeProbe` (bare only) counts
 * constructions.
 */
export async function idle(target, proto, rooms, { socketsPerRoom, connectDeadline, idleSeconds, pingEverySeconds, wakeRooms, wakeProbe, bodyChars, after }) {
  const rssPid = target.rssPid;
  await sleep(500);
  const rss0 = rssBytes(rssPid);
  const t0 = performance.now();
  const specs = rooms.flatMap((room) =>
    Array.from({ length: socketsPerRoom }, (_, i) => () => target.socket(room, room.members[i % room.members.length], proto.name, proto.codec)),
  );
  const sockets = await openAll(specs, CONNECT_CONCURRENCY, connectDeadline);
  const connectMs = performance.now() - t0;
  try {
    await sleep(300);
    const rss1 = rssBytes(rssPid);
    // Pings spread evenly over the interval.
    const pingGap = (pingEverySeconds * 1000) / sockets.length;
    let k = 0;
    const pinger = setInterval(() => {
      const due = Math.max(1, Math.round(10 / pingGap));
      for (let i = 0; i < due; i++) sockets[k++ % sockets.length].ping();
    }, 10);
    const settle = Math.min(idleSeconds / 2, 12);
    await sleep(settle * 1000);
    const cpu0 = cpuSeconds(rssPid);
    const pongs0 = sockets.reduce((n, s) => n + s.pongs, 0);
    const w0 = performance.now();
    await sleep((idleSeconds - settle) * 1000);
    const idleCores = (cpuSeconds(rssPid) - cpu0) / ((performance.now() - w0) / 1000);
    const pongs = sockets.reduce((n, s) => n + s.pongs, 0) - pongs0;
    clearInterval(pinger);
    const rss2 = rssBytes(rssPid);
    const constructed0 = wakeProbe ? await wakeProbe() : null;
    // First send after the idle time, then a warm one, in a few rooms.
    const cold = new Samples();
    const warm = new Samples();
    const text = body(bodyChars);
    for (let r = 0; r < Math.min(wakeRooms, rooms.length); r++) {
      const sender = sockets[r * socketsPerRoom];
      for (const into of [cold, warm]) {
        const id = `w${idCounter++}`;
        const t = performance.now();
        await new Promise((resolve) => {
          sender.sink = { event() {}, ack: (_s, f) => f.id === id && resolve(), error: resolve };
          sender.send({ t: "send", id, body: text });
        });
        into.push(performance.now() - t);
      }
    }
    const constructed1 = wakeProbe ? await wakeProbe() : null;
    // `after` gets the same sockets, by room, to measure on them next (the 100 rooms of 10 are
    // the idle scenario's rooms: connecting 1 000 sockets a second time would only cost time).
    const then = after
      ? await after(rooms.map((room, i) => {
          const own = sockets.slice(i * socketsPerRoom, (i + 1) * socketsPerRoom);
          return { room, sockets: own, sender: own[0] };
        }))
      : undefined;
    return {
      then,
      sockets: sockets.length,
      rooms: rooms.length,
      connectMs: round(connectMs, 0),
      rssBeforeMB: round(rss0 / 2 ** 20, 1),
      rssConnectedMB: round(rss1 / 2 ** 20, 1),
      rssIdleMB: round(rss2 / 2 ** 20, 1),
      bytesPerSocketConnected: round((rss1 - rss0) / sockets.length, 0),
      bytesPerSocketIdle: round((rss2 - rss0) / sockets.length, 0),
      idleSeconds,
      pingsPerSecond: round(pongs / ((idleSeconds - settle) || 1), 0),
      idleServerCores: round(idleCores, 4),
      firstSendAfterIdleMs: cold.summary(),
      warmSendMs: warm.summary(),
      objectsWoken: constructed0 === null ? null : constructed1 - constructed0,
    };
  } finally {
    await Promise.all(sockets.map((s) => s.close()));
  }
}

/**
 * Stores `events` messages in the catch-up room (its only member, closed loop, 400 in flight) and
 * returns where they start and end. The run fills every server's room ahead of the scenario, so
 * that the scenario itself is only the reconnect.
 */
export async function seedCatchUp(target, proto, room, { events, bodyChars }) {
  const [sender] = await connectRoom(target, room, 1, proto);
  const since = sender.lastSeq;
  const text = body(bodyChars);
  const t0 = performance.now();
  await new Promise((resolve) => {
    let next = 0;
    let done = 0;
    const sendNext = () => {
      if (next < events) sender.send({ t: "send", id: `c${next++}-${idCounter++}`, body: text });
    };
    sender.sink = {
      event() {},
      ack() {
        if (++done === events) resolve();
        else sendNext();
      },
      error(_s, f) {
        console.error(`  ${target.label}: error frame ${f.code}: ${f.message}`);
      },
    };
    for (let i = 0; i < SEED_WINDOW; i++) sendNext();
  });
  const seedMs = performance.now() - t0;
  const upTo = sender.lastSeq;
  await sender.close();
  return { since, upTo, seedMs: round(seedMs, 0), seedPerSecond: round(events / (seedMs / 1000), 0) };
}
