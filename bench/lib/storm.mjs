// The reconnect storm (issue 17): every socket of 100 users comes back at once with `since`, as
// after a network blip or a load balancer's restart. Also what one upgrade costs with every object
// awake, and, for ours, how much presence a contact watching from an inbox is told per user who
// comes back (one frame per user is the promise; one per conversation per socket is the cost to find).
import WebSocket from "ws";
import { setTimeout as sleep } from "node:timers/promises";
import { keepAlive, offerDeflate, openAll } from "./client.mjs";
import { cpuMeter, objectWatch } from "./proc.mjs";
import { body, CONNECT_CONCURRENCY, coresByName, quietFor, settle } from "./scenarios.mjs";
import { round, Samples } from "./stats.mjs";

let idCounter = 0;

/** Longest wait for the watcher to see every contact back online (each is counted either way). */
const PRESENCE_WAIT_MS = 15_000;

/**
 * An inbox socket of `member` that counts the `presence` frames it is told, by user and state.
 * Resolves once the `inbox` frame came (the watcher is in place).
 */
async function watchInbox(target, member, proto) {
  const { url, headers } = target.address("/inbox", member);
  const ws = new WebSocket(url, [proto.name], { headers, perMessageDeflate: offerDeflate() });
  const watcher = {
    online: new Map(),
    offline: new Map(),
    reset() {
      this.online.clear();
      this.offline.clear();
    },
    close() {
      clearInterval(pinger);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
      return closed;
    },
  };
  // Kept alive as the app keeps its inbox (the server closes a socket silent for two intervals).
  const pinger = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send("ping"), 20_000);
  const closed = new Promise((resolve) => ws.once("close", resolve));
  await new Promise((resolve, reject) => {
    ws.on("message", (data, isBinary) => {
      if (!isBinary && data.toString() === "pong") return;
      for (const f of proto.codec.decodeAll(isBinary ? data : data.toString())) {
        if (f.t === "inbox") resolve();
        else if (f.t === "presence") {
          const by = f.online ? watcher.online : watcher.offline;
          by.set(f.username, (by.get(f.username) ?? 0) + 1);
        }
      }
    });
    ws.once("unexpected-response", (_req, res) => reject(new Error(`inbox: upgrade answered ${res.statusCode}`)));
    ws.once("error", reject);
    ws.once("close", (code) => reject(new Error(`inbox: closed ${code}`)));
  }).catch((err) => {
    clearInterval(pinger);
    throw err;
  });
  return watcher;
}

/**
 * Every socket sends one message at once; resolves when each is acked and every socket of each
 * room holds its room's last seq. Returns that seq per room.
 */
export async function exchange(target, live, text, deadlineMs) {
  let expected = 0;
  let acked = 0;
  let refused = null;
  const top = new Map(live.map((r) => [r, 0]));
  for (const r of live) {
    for (const s of r.sockets) {
      s.sink = {
        event() {},
        ack(_s, f) {
          acked++;
          top.set(r, Math.max(top.get(r), f.seq));
        },
        error(_s, f) {
          refused ??= `${target.label}: error frame ${f.code}: ${f.message}`;
        },
      };
    }
  }
  for (const r of live) {
    for (const s of r.sockets) {
      s.send({ t: "send", id: `s${(idCounter++).toString(36)}`, body: text });
      expected++;
    }
  }
  const until = performance.now() + deadlineMs;
  const done = () => acked === expected && live.every((r) => r.sockets.every((s) => s.lastSeq >= top.get(r)));
  while (!done()) {
    if (refused) throw new Error(refused);
    const gone = live.flatMap((r) => r.sockets).filter((s) => s.closeCode !== null);
    if (gone.length > 0) throw new Error(`exchange: ${gone.length} sockets closed by the server (code ${gone[0].closeCode})`);
    if (performance.now() > until) throw new Error(`exchange: ${acked} of ${expected} acked in ${deadlineMs} ms`);
    await sleep(20);
  }
  return top;
}

/**
 * 1. Connect `socketsPerRoom` sockets in each room (50 handshakes at a time), and for ours an
 *    inbox of the first room's first member (the watcher: it stays online throughout).
 * 2. Every socket sends one message; each socket remembers the seq it held before them.
 * 3. Close every socket cleanly, let the server go quiet (ours: everyone else offline).
 * 4. The storm: all sockets open at once, each with `since` = the seq it held before the
 *    exchange, so each replays its room's messages (a socket that missed them costs the same).
 *    accept: start to the last 101; synced: start to the last socket holding its room's last seq.
 * 5. With the storm's sockets still open (every object awake), `warmUpgrades` more upgrades one
 *    after the other, each by another member already online (time to the 101), then as many
 *    by one member in a row.
 */
export async function storm(target, proto, rooms, { socketsPerRoom, connectDeadline, bodyChars, watch, warmUpgrades = 50 }) {
  const text = body(bodyChars);
  const live = [];
  let back = [];
  let watcher = null;
  // The app pings every heartbeat interval; so do these sockets, whatever the phase.
  const stopPings = keepAlive(() => [...live.flatMap((r) => r.sockets), ...back].filter((s) => s.closeCode === null));
  try {
    const t0 = performance.now();
    // All rooms' sockets together, 50 handshakes at a time (as the idle scenario connects them).
    const opened = await openAll(
      rooms.flatMap((room) => Array.from({ length: socketsPerRoom }, (_, i) => () => target.socket(room, room.members[i % room.members.length], proto.name, proto.codec))),
      CONNECT_CONCURRENCY,
      connectDeadline * 2,
    );
    for (const [i, room] of rooms.entries()) live.push({ room, sockets: opened.slice(i * socketsPerRoom, (i + 1) * socketsPerRoom) });
    const connectMs = performance.now() - t0;
    const watchedUser = rooms[0].members[0];
    // The watcher's contacts among the storm's users: those who share a storm room with it (each
    // shares several, with a socket in each), whatever other rooms the run made.
    const shared = rooms.filter((r) => r.members.some((m) => m.username === watchedUser.username));
    const contacts = new Set(shared.flatMap((r) => r.members.map((m) => m.username)));
    contacts.delete(watchedUser.username);
    if (watch) watcher = await watchInbox(target, watchedUser, proto);
    await settle(target, { quietMs: quietFor(target, 1500) });
    const since = live.map((r) => r.sockets.map((s) => s.lastSeq));
    const top = await exchange(target, live, text, connectDeadline * 1000);
    await Promise.all(live.flatMap((r) => r.sockets.map((s) => s.close())));
    // Everyone but the watcher is offline once the server is quiet (ours announces it).
    await settle(target, { quietMs: quietFor(target, 2500) });
    // Each contact must have been seen going offline, or coming back is no change to announce.
    const offlineSeen = watcher ? [...contacts].filter((u) => watcher.offline.has(u)).length : null;
    watcher?.reset();

    // Presence frames the conversations send to the sockets coming back (ours), from the storm on.
    let presenceToSockets = 0;
    const sink = { event() {}, ack() {}, other(_s, f) { if (f.t === "presence") presenceToSockets++; } };
    const specs = live.flatMap((r, i) =>
      r.sockets.map((_, j) => () => {
        const s = target.socket(r.room, r.room.members[j % r.room.members.length], proto.name, proto.codec, { since: since[i][j] });
        s.sink = sink;
        return s;
      }),
    );
    // Which objects the storm put in and out of memory before all were synced: a look before and
    // one after (an object leaves memory seconds after its last event, never within a storm).
    // Objects the storm's sockets do not need, woken meanwhile, are work on the one thread.
    const objects = target.workerPid ? objectWatch(target.workerPid) : null;
    // The CPU the workerd used until all were synced (the storm is work on one thread), and what
    // the other servers used meanwhile on the core they share (work left behind by their own
    // storms, which would slow this one).
    const worker = cpuMeter(target.workerPid ? [target.workerPid] : []);
    const servers = target.neighbourPids?.() ?? [];
    const neighbours = cpuMeter(servers.map(([, p]) => p));
    const t1 = performance.now();
    back = await openAll(specs, specs.length, connectDeadline * 2);
    // Every socket is synced (no `more`); each must hold its room's last seq.
    const syncedMs = performance.now() - t1;
    objects?.look();
    const workerCpu = worker.stop();
    const neighbourCpu = neighbours.stop();
    const upgrade = new Samples();
    let acceptMs = 0;
    for (const s of back) {
      upgrade.push(s.upgradedAt - s.startedAt);
      acceptMs = Math.max(acceptMs, s.upgradedAt - t1);
    }
    let k = 0;
    let lost = 0;
    let dup = 0;
    let ooo = 0;
    for (const r of live) {
      for (let j = 0; j < r.sockets.length; j++) {
        const s = back[k++];
        lost += s.lostUpTo(top.get(r));
        dup += s.dup;
        ooo += s.outOfOrder;
      }
    }
    // Presence is deferred (ours: a socket let in without a call reports a moment later, and the
    // rounds to the inboxes gather for a second): wait until the watcher has seen every contact
    // come back (at most PRESENCE_WAIT_MS), then until the server has been quiet for longer than a
    // round, so that a repeat is counted too. A quiet wait alone could end before the deferred
    // reports fired (a quick run's storm is over in a few milliseconds) and count nothing.
    if (watcher) {
      const until = performance.now() + PRESENCE_WAIT_MS;
      while ([...contacts].some((u) => !watcher.online.has(u)) && performance.now() < until) await sleep(50);
    }
    await settle(target, { quietMs: Math.max(quietFor(target, 2500), watcher ? 1500 : 0) });
    const others = new Set(rooms.flatMap((r) => r.members.map((m) => m.username)));
    others.delete(watchedUser.username);
    const perUser = watcher ? [...contacts].map((u) => watcher.online.get(u) ?? 0) : [];

    // One more upgrade at a time, with every object awake and the member already online: first
    // one each by `warmUpgrades` different members (a room and a member in turn), what one person
    // reconnecting costs; then as many in a row by one member into one room, which takes a
    // session past the reconnects it may make without a check (ours: 20 a minute in each
    // conversation; every further one is checked and charged by the member's object).
    const upgradeOnce = async (r, member) => {
      const s = target.socket(r.room, member, proto.name, proto.codec, { since: top.get(r) });
      s.sink = { event() {}, ack() {} };
      await s.opened;
      const ms = s.upgradedAt - s.startedAt;
      await s.close();
      return ms;
    };
    const warm = new Samples();
    for (let i = 0; i < warmUpgrades; i++) {
      const r = live[i % live.length];
      const members = r.room.members.slice(0, r.sockets.length); // each holds a socket there
      warm.push(await upgradeOnce(r, members[(1 + Math.floor(i / live.length)) % members.length]));
    }
    const burst = new Samples();
    const member = rooms[0].members[1 % rooms[0].members.length];
    for (let i = 0; i < warmUpgrades; i++) burst.push(await upgradeOnce(live[0], member));
    return {
      sockets: back.length,
      users: others.size + 1,
      rooms: rooms.length,
      connectMs: round(connectMs, 0),
      messagesExchanged: back.length,
      acceptMs: round(acceptMs, 0),
      syncedMs: round(syncedMs, 0),
      upgradeMs: upgrade.summary(),
      warmUpgradeMs: warm.summary(),
      burstUpgradeMs: burst.summary(),
      objectsUntilSynced: objects ? { awakeAtStart: objects.atStart, opened: objects.opened, openedBy: objects.openedBy, closed: objects.closed } : null,
      workerCpuMsUntilSynced: target.workerPid ? round(workerCpu.seconds * 1000, 0) : null,
      neighbourCoresUntilSynced: round(neighbourCpu.cores, 3),
      neighbourCoresBy: coresByName(servers, neighbourCpu),
      lost,
      duplicated: dup,
      outOfOrder: ooo,
      // Ours only: what the watcher's inbox was told about the users who came back.
      presence: watcher
        ? {
            watchedUsers: perUser.length,
            sharedRoomsEach: shared.length,
            offlineSeenBefore: offlineSeen,
            usersSeenOnline: perUser.filter((n) => n > 0).length,
            onlineFramesPerUser: round(perUser.reduce((a, b) => a + b, 0) / (perUser.length || 1), 2),
            onlineFramesPerUserMax: Math.max(0, ...perUser),
            framesToConversationSockets: presenceToSockets,
          }
        : null,
    };
  } finally {
    stopPings();
    await Promise.all([...live.flatMap((r) => r.sockets.map((s) => s.close())), ...back.map((s) => s.close())]);
    await watcher?.close();
  }
}
