#!/usr/bin/env node
// The fault run (`npm run test:faults`): drives `wrangler dev` on loopback with several rooms and
// senders while it kills sockets, cuts, holds and delays traffic through its own TCP proxy, cuts
// frames in half, reloads the objects and kills and restarts wrangler dev on the same storage;
// then it checks every promise of PROTOCOL.md section 4 against every client's log and each
// room's stored history, prints the counts and exits non-zero on any violation.
//
//   node test/faults/run.mjs [--duration 120] [--seed N] [--port 8820] [--rooms 3] [--senders 3]
//                            [--root DIR (a scratch copy of the repository to run instead)] [--keep]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { check, fetchEventLog, fetchHistory } from "./check.mjs";
import { BODY_MARK, Member } from "./client.mjs";
import { checkHeaders } from "./headers.mjs";
import { loadProtocol } from "./protocol.mjs";
import { FaultProxy } from "./proxy.mjs";
import { createRandom, sleep } from "./random.mjs";
import { DevServer } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    duration: { type: "string", default: "120" },
    seed: { type: "string" },
    port: { type: "string", default: "8820" },
    rooms: { type: "string", default: "3" },
    senders: { type: "string", default: "3" },
    root: { type: "string", default: resolve(here, "..", "..") },
    keep: { type: "boolean", default: false },
  },
});

const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(`the fault run needs Node 22 (wrangler does): run it with \`npm run test:faults\`, not node ${process.version}`);
  process.exit(2);
}

const DURATION_MS = Number(opts.duration) * 1000;
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
  vars: { LIMIT_SENDS_PER_SECOND: "100000", LIMIT_SEND_BURST: "100000" },
});
const proxy = new FaultProxy({ port: PROXY_PORT, targetPort: PORT, random });
const faults = { socketKill: 0, proxyCutAll: 0, proxyCutOne: 0, cutMidFrame: 0, blackHole: 0, delay: 0, objectReload: 0, wranglerRestart: 0 };
/** Socket closes the clients saw during each heavy fault: evidence that it reset the objects. */
const heavyCloses = {};
const log = (...a) => console.log(`[faults ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const t0 = Date.now();

// The whole run is bounded: setup, faults, drain and check.
let rooms = [];

/** When a run cannot finish, what the clients saw so far is often the clue. */
function reportPartial() {
  const seen = rooms.flatMap((r) => r.members).flatMap((m) => m.violations);
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
}, DURATION_MS + 5 * 60_000);

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
    const member = (account, sender) => new Member({
      name: account.username, token: account.token, room: id, baseUrl: `ws://127.0.0.1:${PROXY_PORT}`, protocol,
      proto: random.pick(["chat.v1.json", "chat.v1.msgpack", "chat.v1.msgpack.short"]), random, sender, stats: null,
    });
    rooms.push({
      id,
      owner: senders[0],
      accounts: [...senders, listener, late],
      members: [...senders.map((s) => member(s, true)), member(listener, false)],
      late: { account: late, member: member(late, false) },
      expectedJoins: [...senders, listener, late].map((a) => a.username),
    });
  }
  return rooms;
}

async function injectFault(rooms, kind) {
  const everyone = rooms.flatMap((r) => r.members);
  switch (kind) {
    case "socketKill":
      return random.pick(everyone).kill();
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

async function faultLoop(rooms) {
  const end = t0Faults + DURATION_MS;
  // The heavy faults come at fixed fractions of the run (each at least once), the rest at random.
  const heavy = [
    [0.3, "wranglerRestart"], [0.5, "objectReload"], [0.7, "wranglerRestart"], [0.88, "objectReload"],
  ].map(([f, kind]) => ({ at: t0Faults + f * DURATION_MS + random.int(-2000, 2000), kind }));
  let lateJoined = false;
  while (Date.now() < end) {
    await sleep(random.int(300, 1500));
    if (!lateJoined && Date.now() > t0Faults + 0.4 * DURATION_MS) {
      lateJoined = true;
      for (const room of rooms) {
        const res = await api("POST", `/api/conversations/${room.id}/join`, room.late.account.token);
        if (res.status !== 200) throw new Error(`late join: ${res.status}`);
        room.members.push(room.late.member);
        room.late.member.start();
      }
      log("late joiners joined");
    }
    const due = heavy.find((h) => !h.done && Date.now() >= h.at);
    const kind = due ? due.kind : random.weighted({ socketKill: 5, proxyCutAll: 1, proxyCutOne: 3, cutMidFrame: 3, blackHole: 1, delay: 2 });
    if (due) due.done = true;
    const closesBefore = rooms.flatMap((r) => r.members).reduce((n, m) => n + m.counts.closes, 0);
    if (await injectFault(rooms, kind)) faults[kind]++;
    if (due) {
      await sleep(500);
      const closed = rooms.flatMap((r) => r.members).reduce((n, m) => n + m.counts.closes, 0) - closesBefore;
      log(`fault: ${kind} done; ${closed} socket closes meanwhile`);
      heavyCloses[kind] = (heavyCloses[kind] ?? 0) + closed;
    }
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

let t0Faults = 0;
let exitCode = 1;
try {
  const protocol = await loadProtocol(opts.root, workDir);
  server.prepare();
  server.start();
  await server.ready();
  await proxy.start();
  log(`wrangler dev up on ${server.url} (proxy ${PROXY_PORT}), seed ${SEED}, work dir ${workDir}`);
  const headerProblems = await checkHeaders(server.url, join(opts.root, "web", "public", "_headers"));
  rooms = await setup(protocol);
  for (const m of rooms.flatMap((r) => r.members)) m.start();
  t0Faults = Date.now();
  log(`${rooms.length} rooms, ${Number(opts.senders)} senders each; faults for ${DURATION_MS / 1000} s`);
  await faultLoop(rooms);
  log("faults over; draining");
  const drained = await drain(rooms);
  log(drained ? "drained" : "drain timed out");
  for (const room of rooms) {
    room.log = await fetchEventLog(server.url.replace("http", "ws"), room.id, room.owner.token, protocol);
    room.history = await fetchHistory(server.url, room.id, room.owner.token);
  }
  for (const m of rooms.flatMap((r) => r.members)) m.stop();
  const { violations, counts } = check(rooms);
  if (!drained) violations.push({ kind: "drain_timed_out" });
  for (const p of headerProblems) violations.push({ kind: "security_headers", detail: p });
  for (const leak of scanLogs(rooms)) violations.push({ kind: "log_leak", detail: `wrangler dev's output carries ${leak}` });

  const byKind = {};
  for (const x of violations) byKind[x.kind] = (byKind[x.kind] ?? 0) + 1;
  const summary = { seed: SEED, durationS: DURATION_MS / 1000, rooms: rooms.length, members: rooms.reduce((n, r) => n + r.members.length, 0), ...counts, faults, socketClosesDuringHeavyFaults: heavyCloses, violations: violations.length, violationKinds: byKind };
  console.log("\nFAULT RUN SUMMARY");
  console.log(JSON.stringify(summary, null, 2));
  for (const x of violations.slice(0, 30)) console.log("VIOLATION", JSON.stringify(x));
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
