#!/usr/bin/env node
// The fault run (`npm run test:faults`): drives `wrangler dev` on loopback with several rooms and
// senders while it kills sockets, cuts, holds and delays traffic through its own TCP proxy, cuts
// frames in half, reloads the objects and kills and restarts wrangler dev on the same storage;
// then it checks every promise of PROTOCOL.md section 4 against every client's log and each
// room's stored history. The faults come in segments; after each one the run goes quiet (no new
// messages, no faults, some users go away and others come back) and checks the derived state
// (derived.mjs): every badge and every presence dot. It prints the counts and exits non-zero on
// any violation.
//
//   node test/faults/run.mjs [--duration 96] [--checks 8] [--seed N] [--port 8820] [--rooms 3]
//                            [--senders 3] [--root DIR (a scratch copy of the repository to run
//                            instead)] [--keep] [--reloads N (N object reloads spread evenly over
//                            the fault time, in place of the usual three reloads and two restarts:
//                            every check then follows a reload, as when CI stop 32 failed)]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { check, fetchEventLog, fetchHistory } from "./check.mjs";
import { activity, BODY_MARK, Member } from "./client.mjs";
import { converge, RoomTruth } from "./derived.mjs";
import { Inbox } from "./inbox.mjs";
import { checkHeaders } from "./headers.mjs";
import { loadProtocol } from "./protocol.mjs";
import { FaultProxy } from "./proxy.mjs";
import { createRandom, sleep } from "./random.mjs";
import { DevServer } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    duration: { type: "string", default: "96" },
    checks: { type: "string", default: "8" },
    seed: { type: "string" },
    port: { type: "string", default: "8820" },
    rooms: { type: "string", default: "3" },
    senders: { type: "string", default: "3" },
    root: { type: "string", default: resolve(here, "..", "..") },
    keep: { type: "boolean", default: false },
    reloads: { type: "string" },
  },
});

const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(`the fault run needs Node 22 (wrangler does): run it with \`npm run test:faults\`, not node ${process.version}`);
  process.exit(2);
}

const DURATION_MS = Number(opts.duration) * 1000;
const CHECKS = Math.max(1, Number(opts.checks));
/**
 * The server's heartbeat under the run: short, so that a user whose last socket went away without
 * a goodbye is offline within seconds (leases and the silence limit are multiples of it).
 */
const SERVER_HEARTBEAT_MS = 2000;
/**
 * Once every client is back (or away, as planned) and resends are acked, the derived state is
 * compared every half second until it matches; what still differs when no socket has opened or
 * closed for QUIET_MS + CONVERGE_MS is a violation. The figure reported is the time from the last
 * socket change to the start of the comparison that matched.
 */
const QUIET_MS = 3000;
const CONVERGE_MS = 12_000;
/** Waiting for every client to be back (and resends acked) before the quiet spell starts. */
const SETTLE_MS = 45_000;
const SEED = opts.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(opts.seed);
const PORT = Number(opts.port);
const PROXY_PORT = PORT + 1;
const INSPECTOR_PORT = PORT + 9;
const PASSWORD = "fault-run-password-7f3a";
const random = createRandom(SEED);
const runId = SEED.toString(36).slice(-5);
const workDir = mkdtempSync(join(tmpdir(), "edge-chat-faults-"));
const server = new DevServer({
  root: opts.root,
  workDir,
  port: PORT,
  inspectorPort: INSPECTOR_PORT,
  vars: { LIMIT_SENDS_PER_SECOND: "100000", LIMIT_SEND_BURST: "100000", HEARTBEAT_MS: String(SERVER_HEARTBEAT_MS) },
});
const proxy = new FaultProxy({ port: PROXY_PORT, targetPort: PORT, random });
const faults = { pageReload: 0, inboxKill: 0, socketKill: 0, proxyCutAll: 0, proxyCutOne: 0, cutMidFrame: 0, blackHole: 0, delay: 0, objectReload: 0, wranglerRestart: 0 };
/** Socket closes the clients saw during each heavy fault: evidence that it reset the objects. */
const heavyCloses = {};
const log = (...a) => console.log(`[faults ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const t0 = Date.now();

// The whole run is bounded: setup, faults, drain and check.
let rooms = [];

/** When a run cannot finish, what the clients saw so far is often the clue. */
function reportPartial() {
  const seen = [...rooms.flatMap((r) => r.members).flatMap((m) => m.violations), ...rooms.flatMap((r) => r.people).flatMap((p) => p.inbox.violations), ...derivedViolations];
  const kinds = {};
  for (const x of seen) kinds[x.kind] = (kinds[x.kind] ?? 0) + 1;
  console.error("client-side violations so far:", JSON.stringify(kinds), "faults:", JSON.stringify(faults));
  for (const x of seen.slice(0, 10)) console.error("VIOLATION", JSON.stringify(x));
}

const hardLimit = setTimeout(async () => {
  console.error(`fault run exceeded its time bound; work dir kept: ${workDir}`);
  reportPartial();
  await server.stop();
  process.exit(3);
}, DURATION_MS + CHECKS * (SETTLE_MS + CONVERGE_MS + 10_000) + 5 * 60_000);

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    await server.stop();
    process.exit(130);
  });
}

async function api(method, path, token, body) {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { "Content-Type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(15_000),
      });
      const data = res.status === 204 ? null : await res.json();
      return { status: res.status, data };
    } catch (err) {
      // wrangler dev may be restarting: try again for a while.
      if (attempt > 60) throw err;
      await sleep(500);
    }
  }
}

async function signup(username) {
  const res = await api("POST", "/api/signup", null, { username, password: PASSWORD });
  if (res.status !== 201) throw new Error(`signup ${username}: ${res.status} ${JSON.stringify(res.data)}`);
  return { username, token: res.data.token };
}

async function setup(protocol) {
  const rooms = [];
  for (let r = 0; r < Number(opts.rooms); r++) {
    const senders = [];
    for (let s = 0; s < Number(opts.senders); s++) senders.push(await signup(`f${runId}r${r}s${s}`));
    const listener = await signup(`f${runId}r${r}l`);
    const late = await signup(`f${runId}r${r}j`);
    const created = await api("POST", "/api/conversations", senders[0].token, { kind: "room", title: `fault room ${r}` });
    if (created.status !== 201) throw new Error(`room: ${created.status}`);
    const id = created.data.conversation.id;
    for (const a of [...senders.slice(1), listener]) {
      const res = await api("POST", `/api/conversations/${id}/members`, senders[0].token, { username: a.username });
      if (res.status !== 200) throw new Error(`invite: ${res.status}`);
    }
    const baseUrl = `ws://127.0.0.1:${PROXY_PORT}`;
    const member = (account, sender) => new Member({
      name: account.username, token: account.token, room: id, baseUrl, protocol,
      proto: random.pick(["chat.v1.json", "chat.v1.msgpack", "chat.v1.msgpack.short"]), random, sender, stats: null,
    });
    const person = (account, m, joined) => ({
      account, member: m, joined,
      inbox: new Inbox({ name: account.username, token: account.token, baseUrl, protocol, proto: random.pick(["chat.v1.json", "chat.v1.msgpack"]), random }),
    });
    const members = [...senders.map((s) => member(s, true)), member(listener, false)];
    const lateMember = member(late, false);
    const people = [...members.map((m, i) => person([...senders, listener][i], m, true)), person(late, lateMember, false)];
    const room = {
      id,
      owner: senders[0],
      accounts: [...senders, listener, late],
      members,
      people,
      late: { account: late, member: lateMember, person: people[people.length - 1] },
      expectedJoins: [...senders, listener, late].map((a) => a.username),
    };
    room.truth = new RoomTruth(room);
    rooms.push(room);
  }
  return rooms;
}

async function injectFault(rooms, kind) {
  const everyone = rooms.flatMap((r) => r.members).filter((m) => !m.paused);
  switch (kind) {
    case "socketKill":
      return everyone.length > 0 && random.pick(everyone).kill();
    case "pageReload": {
      // A page reload: both sockets of one user closed normally and opened again at once.
      const up = rooms.flatMap((r) => r.people).filter((p) => p.joined && !p.member.paused);
      if (up.length === 0) return false;
      const p = random.pick(up);
      p.member.pause(false);
      p.member.resume();
      if (!p.inbox.paused) {
        p.inbox.pause(false);
        p.inbox.resume();
      }
      return true;
    }
    case "inboxKill": {
      const open = rooms.flatMap((r) => r.people).map((p) => p.inbox).filter((i) => i.open);
      return open.length > 0 && random.pick(open).kill();
    }
    case "proxyCutAll":
      return proxy.cutAll() > 0;
    case "proxyCutOne":
      return proxy.cutOne();
    case "cutMidFrame":
      return proxy.cutMidFrame();
    case "blackHole":
      return proxy.blackHole();
    case "delay":
      proxy.delay(random.int(50, 900), random.int(1000, 4000));
      return true;
    case "objectReload":
      await server.reload();
      return true;
    case "wranglerRestart":
      await server.restart(random.int(0, 1500));
      return true;
  }
  return false;
}

/** Time spent injecting faults so far (the quiet checks do not count). */
let faultClock = 0;
let lateJoined = false;

/** One segment of faults, `ms` long on the fault clock. Returns the faults injected. */
async function faultSegment(rooms, ms, heavy) {
  const start = Date.now();
  const base = faultClock;
  const clock = () => base + (Date.now() - start);
  const injected = [];
  while (Date.now() - start < ms) {
    await sleep(random.int(300, 1500));
    if (!lateJoined && clock() > 0.4 * DURATION_MS) {
      lateJoined = true;
      for (const room of rooms) {
        const res = await api("POST", `/api/conversations/${room.id}/join`, room.late.account.token);
        if (res.status !== 200) throw new Error(`late join: ${res.status}`);
        room.members.push(room.late.member);
        room.late.person.joined = true;
        room.late.member.start();
      }
      injected.push("lateJoin");
      log("late joiners joined");
    }
    const due = heavy.find((h) => !h.done && clock() >= h.at);
    const kind = due ? due.kind : random.weighted({ socketKill: 4, pageReload: 2, inboxKill: 1, proxyCutAll: 1, proxyCutOne: 3, cutMidFrame: 3, blackHole: 1, delay: 2 });
    if (due) due.done = true;
    const closesBefore = rooms.flatMap((r) => r.members).reduce((n, m) => n + m.counts.closes, 0);
    if (await injectFault(rooms, kind)) {
      faults[kind]++;
      injected.push(kind);
    }
    if (due) {
      await sleep(500);
      const closed = rooms.flatMap((r) => r.members).reduce((n, m) => n + m.counts.closes, 0) - closesBefore;
      log(`fault: ${kind} done; ${closed} socket closes meanwhile`);
      heavyCloses[kind] = (heavyCloses[kind] ?? 0) + closed;
    }
  }
  faultClock = base + (Date.now() - start);
  return injected;
}

/**
 * Who is connected for the next check: the owner's room socket stays (it reads the truth); every
 * other member keeps theirs with p = 0.7, every inbox is open with p = 0.6 (at least one per room,
 * so that someone watches). On the last check every room socket is back, for the final log check.
 */
function choosePlan(rooms, last) {
  for (const room of rooms) {
    for (const p of room.people) {
      const conv = p.joined && (last || p.account === room.owner || random.chance(0.7));
      const abrupt = random.chance(0.5);
      if (p.joined) {
        if (conv) p.member.resume();
        else p.member.pause(abrupt);
      }
      if (random.chance(0.6)) p.inbox.resume();
      else p.inbox.pause(abrupt);
    }
    if (room.people.every((p) => !p.joined || p.inbox.paused)) room.people[0].inbox.resume();
  }
}

/** Who is not yet where the plan says: open sockets live (resends acknowledged), paused ones closed. */
function unsettled(rooms) {
  const out = [];
  for (const p of rooms.flatMap((r) => r.people)) {
    const u = p.account.username;
    if (p.joined && !p.member.paused && (!p.member.live || p.member.unacked.length > 0)) out.push(`${u}: room socket ${p.member.live ? `${p.member.unacked.length} unacked` : "not live"}`);
    if (p.joined && p.member.paused && p.member.open) out.push(`${u}: paused room socket still open`);
    if (!p.inbox.paused && !p.inbox.live) out.push(`${u}: inbox not live`);
  }
  return out;
}

const derivedViolations = [];
/** What the last comparison of each check compared: badges (zero or not), watcher-member pairs (online or not). */
const compared = {};
const checkpoints = [];

async function checkpoint(rooms, index, last, injected) {
  const pausedAt = Date.now();
  for (const m of rooms.flatMap((r) => r.members)) {
    m.sending = false;
    m.reading = false;
  }
  proxy.calm();
  choosePlan(rooms, last);
  const deadline = Date.now() + SETTLE_MS;
  let waiting = unsettled(rooms);
  while (Date.now() < deadline && waiting.length > 0) {
    await sleep(200);
    waiting = unsettled(rooms);
  }
  if (waiting.length > 0) derivedViolations.push({ kind: "not_settled", checkpoint: index, detail: waiting });
  const plan = rooms.map((r) => r.people.filter((p) => p.joined).map((p) => `${p.account.username.slice(-3)}:${p.member.open ? "R" : "-"}${p.inbox.open ? "I" : "-"}`).join(" ")).join(" | ");
  const checkStart = Date.now();
  const result = await converge({ rooms, wsBase: server.url.replace("http", "ws"), protocol, api,
    quietUntil: () => activity.lastChange + QUIET_MS,
    // A socket change restarts the clock, but a client that flaps for ever does not hold the run.
    deadline: () => Math.min(activity.lastChange + QUIET_MS + CONVERGE_MS, checkStart + 4 * (QUIET_MS + CONVERGE_MS)),
    tally: compared,
  });
  const quietSince = activity.lastChange;
  const cp = {
    index,
    after: summarizeKinds(injected),
    settleMs: checkStart - pausedAt,
    convergedMs: result.matchedAt ? result.matchedAt - quietSince : null,
    attempts: result.attempts,
    lagged: result.lagged,
    violations: result.violations.length,
  };
  checkpoints.push(cp);
  for (const x of result.violations) derivedViolations.push({ checkpoint: index, ...x });
  if (!result.matchedAt && result.violations.length === 0) {
    // Everything matched, but sockets kept opening or closing for a minute: something kept closing them.
    derivedViolations.push({ kind: "never_quiet", checkpoint: index, detail: unsettled(rooms) });
  }
  const byKind = summarizeKinds(result.violations.map((x) => x.kind));
  log(`check ${index}: ${result.matchedAt ? `matched ${cp.convergedMs} ms after the last socket change and kept matching (${result.attempts} comparisons${Object.keys(result.lagged).length > 0 ? `; differed before: ${JSON.stringify(result.lagged)}` : ""})` : `NOT converged within ${QUIET_MS + CONVERGE_MS} ms: ${JSON.stringify(byKind)}`}; sockets ${plan}`);
  for (const x of result.violations.slice(0, 4)) log("  derived VIOLATION", JSON.stringify(x));
  for (const m of rooms.flatMap((r) => r.members)) {
    m.sending = m.sender;
    m.reading = true;
  }
}

function summarizeKinds(list) {
  const out = {};
  for (const k of list) out[k] = (out[k] ?? 0) + 1;
  return out;
}

async function faultLoop(rooms) {
  // The heavy faults come at fixed fractions of the fault time (each at least once), the rest at random.
  const reloads = opts.reloads === undefined ? null : Math.max(1, Number(opts.reloads));
  const schedule = reloads === null
    ? [[0.15, "objectReload"], [0.3, "wranglerRestart"], [0.5, "objectReload"], [0.7, "wranglerRestart"], [0.88, "objectReload"]]
    : Array.from({ length: reloads }, (_, i) => [(i + 0.5) / reloads, "objectReload"]);
  const heavy = schedule.map(([f, kind]) => ({ at: f * DURATION_MS + random.int(-2000, 2000), kind }));
  for (let i = 1; i <= CHECKS; i++) {
    const injected = await faultSegment(rooms, DURATION_MS / CHECKS, heavy);
    await checkpoint(rooms, i, i === CHECKS, injected);
  }
}

async function drain(rooms) {
  proxy.calm();
  for (const m of rooms.flatMap((r) => r.members)) m.sending = false;
  const deadline = Date.now() + 90_000;
  let stableSince = 0;
  let previous = "";
  while (Date.now() < deadline) {
    await sleep(250);
    const all = rooms.flatMap((r) => r.members);
    const settled = all.every((m) => m.live && m.unacked.length === 0) && rooms.every((r) => new Set(r.members.map((m) => m.lastSeq)).size === 1);
    const state = rooms.map((r) => r.members.map((m) => m.lastSeq).join(",")).join("|");
    if (settled && state === previous) {
      if (Date.now() - stableSince > 2000) return true;
    } else stableSince = Date.now();
    previous = state;
  }
  return false;
}

function scanLogs(rooms) {
  const text = readFileSync(server.logFile, "utf8");
  const leaks = [];
  if (text.includes(BODY_MARK)) leaks.push("a message body");
  if (text.includes(PASSWORD)) leaks.push("a password");
  for (const a of rooms.flatMap((r) => r.accounts)) {
    if (text.includes(a.token.split(".")[2])) {
      leaks.push("a session token");
      break;
    }
  }
  return leaks;
}

let protocol;
let exitCode = 1;
try {
  protocol = await loadProtocol(opts.root, workDir);
  server.prepare();
  server.start();
  await server.ready();
  await proxy.start();
  log(`wrangler dev up on ${server.url} (proxy ${PROXY_PORT}), seed ${SEED}, work dir ${workDir}`);
  const headerProblems = await checkHeaders(server.url, join(opts.root, "web", "public", "_headers"));
  rooms = await setup(protocol);
  for (const m of rooms.flatMap((r) => r.members)) m.start();
  for (const p of rooms.flatMap((r) => r.people)) if (random.chance(0.6)) p.inbox.start();
  log(`${rooms.length} rooms, ${Number(opts.senders)} senders each; faults for ${DURATION_MS / 1000} s in ${CHECKS} segments, each followed by a check of badges and presence`);
  await faultLoop(rooms);
  log("faults over; draining");
  const drained = await drain(rooms);
  log(drained ? "drained" : "drain timed out");
  for (const room of rooms) {
    room.log = await fetchEventLog(server.url.replace("http", "ws"), room.id, room.owner.token, protocol);
    room.history = await fetchHistory(server.url, room.id, room.owner.token);
  }
  for (const m of rooms.flatMap((r) => r.members)) m.stop();
  for (const p of rooms.flatMap((r) => r.people)) p.inbox.stop();
  const { violations, counts } = check(rooms);
  for (const p of rooms.flatMap((r) => r.people)) for (const x of p.inbox.violations) violations.push(x);
  const allMembers = rooms.flatMap((r) => r.members);
  counts.readFrames = allMembers.reduce((n, m) => n + m.counts.readFrames, 0);
  counts.deleteFrames = allMembers.reduce((n, m) => n + m.counts.deleteFrames, 0);
  counts.deletedInLog = rooms.reduce((n, r) => n + r.log.events.filter((e) => e.t === "delete").length, 0);
  counts.inboxConnects = rooms.flatMap((r) => r.people).reduce((n, p) => n + p.inbox.counts.connects, 0);
  const converged = checkpoints.filter((c) => c.convergedMs !== null).map((c) => c.convergedMs).sort((a, b) => a - b);
  const derived = {
    checks: checkpoints.length,
    converged: converged.length,
    convergenceMs: converged.length > 0 ? { min: converged[0], median: converged[Math.floor(converged.length / 2)], max: converged[converged.length - 1] } : null,
    compared,
    violations: derivedViolations.length,
    violationKinds: summarizeKinds(derivedViolations.map((x) => x.kind)),
    perCheck: checkpoints.map((c) => `#${c.index} ${c.convergedMs === null ? "no" : `${c.convergedMs} ms`} (${c.violations} left${Object.keys(c.lagged).length > 0 ? `; lagged ${Object.entries(c.lagged).map(([k, n]) => `${k}x${n}`).join(",")}` : ""}) after ${Object.entries(c.after).map(([k, n]) => `${k}x${n}`).join(",")}`),
  };
  violations.push(...derivedViolations);
  if (!drained) violations.push({ kind: "drain_timed_out" });
  for (const p of headerProblems) violations.push({ kind: "security_headers", detail: p });
  for (const leak of scanLogs(rooms)) violations.push({ kind: "log_leak", detail: `wrangler dev's output carries ${leak}` });

  const byKind = {};
  for (const x of violations) byKind[x.kind] = (byKind[x.kind] ?? 0) + 1;
  const summary = { seed: SEED, durationS: DURATION_MS / 1000, totalS: Math.round((Date.now() - t0) / 1000), rooms: rooms.length, members: rooms.reduce((n, r) => n + r.members.length, 0), ...counts, faults, socketClosesDuringHeavyFaults: heavyCloses, derived, violations: violations.length, violationKinds: byKind };
  console.log("\nFAULT RUN SUMMARY");
  console.log(JSON.stringify(summary, null, 2));
  const logViolations = violations.filter((x) => !derivedViolations.includes(x));
  for (const x of logViolations.slice(0, 30)) console.log("VIOLATION", JSON.stringify(x));
  for (const x of derivedViolations.slice(0, 40)) console.log("DERIVED VIOLATION", JSON.stringify(x));
  exitCode = violations.length === 0 ? 0 : 1;
  console.log(exitCode === 0 ? "fault run passed: no violations" : `fault run FAILED: ${violations.length} violations (seed ${SEED})`);
} catch (err) {
  console.error("fault run could not complete:", err);
  reportPartial();
  exitCode = 2;
} finally {
  clearTimeout(hardLimit);
  await server.stop();
  await proxy.stop().catch(() => {});
  if (exitCode === 0 && !opts.keep) rmSync(workDir, { recursive: true, force: true });
  else console.log(`work dir kept: ${workDir} (wrangler output in wrangler.log)`);
  process.exit(exitCode);
}
