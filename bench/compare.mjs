// Compares builds of the Worker on one measurement, to find where a cost comes from: each build
// is a checkout of this repository (a git worktree with one change, for example), all run under
// wrangler dev side by side with the bare reference, servers on core 0 and this generator on core 1.
//
//   node bench/compare.mjs --what=upgrade|storm|dm|room|idle --builds=main=.,nocheck=../wt/nocheck[:noassets],bare
//     [--n=100] [--seconds=3] [--repeat=2] [--state=/dev/shm] [--syncs] [--after=1500] [--cold]
//     [--js-profile [--survivors|--allocations]] [--perf=DIR] [--heartbeat=MS] [--deflate] [--heap]
//
// upgrade: upgrades one after the other for a member already online, alternating between the
//   builds (a slow spell falls on all alike): time to the 101 and workerd CPU per upgrade and close.
// storm:   100 users in 100 rooms of 10 open 1 000 sockets, close them, and open them all at once
//   again: time until all are synced, and workerd CPU for it (and this generator's own CPU until
//   then, which shows whether the generator kept up), and until --after ms later (work the storm
//   left behind, such as presence). One build at a time. `--cold`: wrangler reloads each build
//   between the two (a new workerd, the state kept on disk), so the storm finds every object cold,
//   as after a deploy. `--replay`: every socket sends a message before they close and comes back
//   with `since`, so each replays its room's ten, as in `npm run bench`'s storm (without it, each
//   comes back up to date and replays nothing).
// dm:      20 DMs, 5 sends in flight each, closed loop: messages/s and CPU per message, builds
//   taking turns for --repeat passes.
// room:    the room of 100: 100 messages/s offered (fan-out p50 and p99, at least 10 s), then a
//   closed loop with 50 in flight (messages/s, CPU per message), builds taking turns for --repeat
//   passes.
// idle:    the bench's idle scenario (100 users, 1 000 sockets in 100 rooms of 10, 12 s of pings):
//   workerd's memory per socket, one build after the other, once (a second pass in the same
//   process would reuse the memory the first one freed: run the command again instead).
// `:noassets` drops the [assets] section from that build's wrangler.toml (what the asset router
// costs). `--syncs` also counts workerd's fsync and fdatasync calls (with strace; storm and dm):
// every SQLite commit on the disk is one, and under wrangler dev it holds the one thread every
// object shares. `--js-profile` prints a CPU profile of the Worker's JavaScript during the measured
// upgrades, the storm, the last DM pass or the last room pass's 100 messages/s (its sockets'
// connecting included) (the inspector; native work is not in it). `--perf=DIR` records the storm, or the last DM pass, with
// `perf record -g` into DIR/NAME-WHAT.perf.data.
// Figures go to stdout only: BENCHMARKS.md says which were recorded and why.
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freezeBare, freezeWorker, loadProtocol } from "./lib/build.mjs";
import { openAll } from "./lib/client.mjs";
import { cpuSeconds } from "./lib/proc.mjs";
import { heapSummary, printProfile, startProfile } from "./lib/profile.mjs";
import { body, fanout, idle } from "./lib/scenarios.mjs";
import { exchange } from "./lib/storm.mjs";
import { LOAD_LIMITS, parseArgs } from "./lib/options.mjs";
import { hasTaskset, locateWorker, startWrangler, stopAll, workerAlive } from "./lib/servers.mjs";
import { OursServer, ReferenceServer, Target } from "./lib/targets.mjs";

const here = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = parseArgs(process.argv.slice(2));
// --deflate: every socket of the generator offers permessage-deflate, as browsers do (lib/client.mjs).
if (args.has("deflate")) process.env.BENCH_DEFLATE = "1";
const what = String(args.get("what") ?? "upgrade");
const n = Number(args.get("n") ?? 100);
const seconds = Number(args.get("seconds") ?? 3);
const repeat = Number(args.get("repeat") ?? 2);
// How long after the storm its CPU is still counted (presence work deferred past it included).
const after = Number(args.get("after") ?? 1500);
const builds = String(args.get("builds") ?? "main=.,bare").split(",").map((spec) => {
  const [name, where = ""] = spec.includes("=") ? spec.split("=") : [spec, spec];
  const [dir, flag] = where.split(":");
  return { name, bare: dir === "bare", root: dir === "bare" ? here : resolve(dir), noassets: flag === "noassets" };
});
if (hasTaskset) execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
const tmp = mkdtempSync(join(String(args.get("state") ?? tmpdir()), "edge-chat-compare-"));
const proto = await loadProtocol(here, tmp);
const msgpack = { name: proto.SUBPROTOCOL_MSGPACK, codec: proto.createCodec(proto.SUBPROTOCOL_MSGPACK, proto.DEFAULT_LIMITS) };
const quiet = { event() {}, ack() {} };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

/** Each build listens on BASE_PORT + its index, and its inspector 100 above that. */
const BASE_PORT = 8850;
const inspectorPort = (port) => port + 100;
const inspectorOf = (x, all) => inspectorPort(BASE_PORT + all.indexOf(x));

async function start(build, port) {
  const dir = mkdtempSync(join(tmp, `${build.name}-`));
  const core = hasTaskset ? 0 : null;
  if (build.bare) {
    build.main = join(dir, "bare", "index.js");
    return startWrangler({ name: build.name, root: here, config: await freezeBare(here, dir), port, inspectorPort: inspectorPort(port), vars: {}, tmp: dir, core, probePath: "/health", statuses: [200] });
  }
  const config = await freezeWorker(build.root, dir, { assets: !build.noassets });
  build.main = join(dir, "ours", "worker.js");
  // --heartbeat=MS: a shorter interval brings the work each one does (lease renewals, the sweep) into a short pass.
  const vars = args.has("heartbeat") ? { ...LOAD_LIMITS, HEARTBEAT_MS: Number(args.get("heartbeat")) } : LOAD_LIMITS;
  return startWrangler({ name: build.name, root: build.root, config, port, inspectorPort: inspectorPort(port), vars, tmp: dir, core, probePath: "/api/me", statuses: [401] });
}

function target(build, h, server = build.bare ? new ReferenceServer("bare") : new OursServer(() => `http://127.0.0.1:${h.directPort}`)) {
  return new Target({ label: build.name, server, port: h.directPort, via: "direct", workerPid: h.workerdPid, cpuPids: [h.workerdPid], rssPid: h.workerdPid });
}

async function upgrades(all) {
  for (const x of all) {
    await x.t.server.signup(3);
    x.room = await x.t.server.room(3);
    // Two members online, so that every upgrade below finds its member online and every object awake.
    x.keep = x.room.members.slice(0, 2).map((m) => Object.assign(x.t.socket(x.room, m, msgpack.name, msgpack.codec), { sink: quiet }));
    await Promise.all(x.keep.map((s) => s.opened));
    Object.assign(x, { ms: [], cpu: 0 });
  }
  for (let i = 0; i < n + 10; i++) {
    for (const x of all) {
      if (i === 10) x.js = await jsProfile(x, all); // after the warm-up
      const c0 = cpuSeconds(x.h.workerdPid);
      const s = Object.assign(x.t.socket(x.room, x.room.members[1], msgpack.name, msgpack.codec, { since: 0 }), { sink: quiet });
      await s.opened;
      await s.close();
      if (i < 10) continue; // warm-up
      x.ms.push(s.upgradedAt - s.startedAt);
      x.cpu += cpuSeconds(x.h.workerdPid) - c0;
    }
  }
  for (const x of all) {
    if (x.js) await stopProfile(x.js, x.name, "upgrades");
    console.log(`${x.name.padEnd(14)} upgrade p10 ${quantile(x.ms, 0.1).toFixed(2)}  p50 ${quantile(x.ms, 0.5).toFixed(2)}  p90 ${quantile(x.ms, 0.9).toFixed(2)} ms; workerd CPU per upgrade and close ${((x.cpu / x.ms.length) * 1000).toFixed(2)} ms (n=${x.ms.length})`);
    await Promise.all(x.keep.map((s) => s.close()));
  }
}

/** Counts a process's fsync and fdatasync calls, and the time spent in them (wall clock), until the returned function is called. */
function countSyncs(pid) {
  const tracer = spawn("strace", ["-f", "--seccomp-bpf", "-c", "-w", "-e", "trace=fsync,fdatasync", "-p", String(pid)], { stdio: ["ignore", "ignore", "pipe"] });
  let out = "";
  tracer.stderr.on("data", (d) => { out += d; });
  return async () => {
    const done = new Promise((r) => tracer.once("exit", r));
    tracer.kill("SIGINT");
    await done;
    // strace -c's table: % time, seconds, usecs/call, calls, [errors,] syscall.
    const row = (name) => out.split("\n").map((l) => l.trim().split(/\s+/)).find((t) => t.at(-1) === name) ?? [];
    const sum = (i) => Number(row("fsync")[i] ?? 0) + Number(row("fdatasync")[i] ?? 0);
    return { calls: sum(3), seconds: sum(1) };
  };
}

/**
 * Starts the inspector's CPU profile of a build's Worker when --js-profile asks for one (the bare
 * object's too: its collector's share is the one to compare with). `--survivors`: the room pass
 * also samples what outlives a scavenge, by where it was allocated (bench/lib/profile.mjs);
 * `--allocations`: everything the room pass allocates, collected or not (the garbage per send).
 */
const jsProfile = (x, all, allocations = false) => (args.has("js-profile") ? startProfile(inspectorOf(x, all), undefined, { allocations }) : null);

/** Stops a JS profile started by jsProfile and prints it. */
async function stopProfile(js, name, what) {
  printProfile(`${name}, the ${what}`, await js.stop(join(tmpdir(), `${what}-${name}.cpuprofile`)));
}

/** Starts `perf record -g` of a build's workerd into DIR/NAME-WHAT.perf.data when --perf=DIR asks. */
function startPerf(x, what) {
  if (!args.has("perf")) return null;
  const out = join(String(args.get("perf")), `${x.name}-${what}.perf.data`);
  return spawn("perf", ["record", "-F", "999", "-g", "-p", String(x.h.workerdPid), "-o", out], { stdio: "ignore" });
}

/** Stops a recording started by startPerf (perf writes its file on SIGINT). */
async function stopPerf(perf) {
  if (!perf) return;
  const stopped = new Promise((r) => perf.once("exit", r));
  perf.kill("SIGINT");
  await stopped;
}

/**
 * A deploy's restart (--cold): wrangler dev reloads the build's frozen copy into a new workerd, as
 * bench/run.mjs's deploy scenario does; the state stays on disk, every object starts cold. The
 * build is then reached at the new workerd.
 */
async function restart(x) {
  const before = x.h.workerdPid;
  appendFileSync(x.main, `\n// compare: a restart at ${new Date().toISOString()}\n`);
  for (let waited = 0; await workerAlive(x.h); waited += 100) {
    if (waited > 30_000) throw new Error(`${x.name}: wrangler did not reload`);
    await sleep(100);
  }
  await locateWorker(x.h);
  if (x.h.workerdPid === before) throw new Error(`${x.name}: found the old workerd again after the reload`);
  x.t = target(x, x.h, x.t.server);
  await sleep(1000); // wrangler's own start-up work is not the storm's
}

async function storms(all) {
  for (const x of all) {
    await x.t.server.signup(100);
    const rooms = await x.t.server.rooms(100, 10);
    const seats = rooms.flatMap((room) => room.members.map((m) => ({ room, m })));
    const specs = (since) => seats.map(({ room, m }, k) => () => Object.assign(x.t.socket(room, m, msgpack.name, msgpack.codec, since ? { since: since[k] } : {}), { sink: quiet }));
    const first = await openAll(specs(), 50, 120);
    // --replay: the seq each socket held, then one message from each (50 characters, as the bench's).
    const since = args.has("replay") ? first.map((s) => s.lastSeq) : null;
    if (since) await exchange(x.t, rooms.map((room) => ({ room, sockets: first.filter((_, k) => seats[k].room === room) })), body(50), 60_000);
    await Promise.all(first.map((s) => s.close()));
    await sleep(4000);
    if (args.has("cold")) await restart(x);
    const syncs = args.has("syncs") ? countSyncs(x.h.workerdPid) : null;
    const js = await jsProfile(x, all);
    const perf = startPerf(x, "storm");
    if (syncs) await sleep(500); // strace attaches to every thread first
    const c0 = cpuSeconds(x.h.workerdPid);
    const g0 = process.cpuUsage();
    const t0 = performance.now();
    const back = await openAll(specs(since), 1000, 120);
    const ms = performance.now() - t0;
    const g = process.cpuUsage(g0);
    const generatorMs = (g.user + g.system) / 1000;
    const cpuUntilSynced = cpuSeconds(x.h.workerdPid) - c0;
    await sleep(after); // what the storm leaves behind (presence) is part of its cost
    const cpu = cpuSeconds(x.h.workerdPid) - c0;
    const s = syncs ? await syncs() : null;
    const synced = s ? `; ${s.calls} fsync/fdatasync calls, ${(s.seconds * 1000).toFixed(0)} ms waiting in them` : "";
    if (js) await stopProfile(js, x.name, "storm");
    await stopPerf(perf);
    console.log(`${x.name.padEnd(14)} storm: ${back.length} sockets synced in ${ms.toFixed(0)} ms; workerd CPU ${(cpu * 1000).toFixed(0)} ms (${((cpu / back.length) * 1e6).toFixed(0)} us a socket, the ${(after / 1000).toFixed(1)} s after included; ${(cpuUntilSynced * 1000).toFixed(0)} ms until synced); this generator's CPU until synced ${generatorMs.toFixed(0)} ms${synced}`);
    await Promise.all(back.map((s) => s.close()));
  }
}

async function dms(all) {
  for (const x of all) {
    await x.t.server.signup(40);
    x.dms = await x.t.server.dms(20);
    x.runs = [];
  }
  for (let r = 0; r < repeat; r++) {
    for (const x of all) {
      const syncs = args.has("syncs") ? countSyncs(x.h.workerdPid) : null;
      if (syncs) await sleep(500);
      const last = r === repeat - 1;
      const js = last ? await jsProfile(x, all) : null;
      const perf = last ? startPerf(x, "dms") : null;
      const run = await fanout(x.t, msgpack, x.dms, { mode: "closed", window: 5, seconds, warmup: 0.5, bodyChars: 50, socketsPerRoom: 2, connectDeadline: 60 });
      await stopPerf(perf);
      // Per message sent, connecting and closing the DMs' sockets included.
      if (syncs) run.syncsPerMessage = ((await syncs()).calls / run.sent).toFixed(2);
      if (js) await stopProfile(js, x.name, "dms");
      x.runs.push(run);
    }
  }
  for (const x of all) {
    const col = (k) => x.runs.map((o) => o[k]).join(" / ");
    console.log(`${x.name.padEnd(14)} messages/s ${col("messagesPerSecond")}; CPU us/message ${col("serverCpuUsPerMessage")}; disk KB/message ${col("diskKBPerMessage")}; ack p50 ms ${x.runs.map((o) => o.ackMs.p50).join(" / ")}; lost ${col("lost")}, duplicated ${col("duplicated")}${args.has("syncs") ? `; fsyncs/message ${col("syncsPerMessage")}` : ""}`);
  }
}

/**
 * The room of 100 (--what=room): 100 messages/s offered into it (the fan-out's tail), then a closed
 * loop with 50 in flight (messages/s), the builds taking turns for --repeat passes.
 */
async function room100(all) {
  for (const x of all) {
    await x.t.server.signup(100);
    x.room = await x.t.server.room(100);
    x.runs = [];
  }
  const common = { bodyChars: 50, socketsPerRoom: 100, connectDeadline: 60, warmup: 0.5 };
  for (let r = 0; r < repeat; r++) {
    for (const x of all) {
      const last = r === repeat - 1;
      const js = last ? await jsProfile(x, all, args.has("survivors") ? "survivors" : args.has("allocations")) : null;
      const open = await fanout(x.t, msgpack, [x.room], { ...common, mode: "open", rate: 100, seconds: Math.max(seconds, 10) });
      if (js) await stopProfile(js, x.name, "room");
      const closed = await fanout(x.t, msgpack, [x.room], { ...common, mode: "closed", window: 50, seconds });
      x.runs.push({ open, closed });
    }
  }
  // --heap: what each isolate holds after the passes (a major collection marks all of it).
  if (args.has("heap")) {
    for (const x of all) {
      const h = await heapSummary(inspectorOf(x, all));
      console.log(`\n== ${x.name}: heap ${h.totalMb.toFixed(1)} MB after a full collection\n-- by kind\n${h.kinds.join("\n")}\n-- by constructor\n${h.names.join("\n")}`);
    }
  }
  for (const x of all) {
    const col = (f) => x.runs.map(f).join(" / ");
    console.log(`${x.name.padEnd(14)} 100 msg/s: fan-out p50 ${col((o) => o.open.fanoutMs.p50)} ms, p99 ${col((o) => o.open.fanoutMs.p99)} ms, CPU us/message ${col((o) => o.open.serverCpuUsPerMessage)}, disk KB/message ${col((o) => o.open.diskKBPerMessage)}; closed loop ${col((o) => o.closed.messagesPerSecond)} msg/s, CPU us/message ${col((o) => o.closed.serverCpuUsPerMessage)}; lost ${col((o) => o.open.lost + o.closed.lost)}`);
  }
}

async function idles(all) {
  for (const x of all) {
    await x.t.server.signup(100);
    x.rooms = await x.t.server.rooms(100, 10);
    x.runs = [];
  }
  for (const x of all) {
    await sleep(15_000); // rested, as in bench/run.mjs: objects idle for ~10 s are evicted
    x.runs.push(await idle(x.t, msgpack, x.rooms, { socketsPerRoom: 10, connectDeadline: 60, idleSeconds: 12, pingEverySeconds: 5, wakeRooms: 0, bodyChars: 50 }));
  }
  for (const x of all) {
    const col = (k) => x.runs.map((o) => o[k]).join(" / ");
    console.log(`${x.name.padEnd(14)} idle: bytes a socket connected ${col("bytesPerSocketConnected")}, after the idle time ${col("bytesPerSocketIdle")}; RSS before ${col("rssBeforeMB")} MB, after ${col("rssIdleMB")} MB`);
  }
}

try {
  const all = [];
  for (const [i, build] of builds.entries()) {
    const h = await start(build, BASE_PORT + i);
    all.push({ ...build, h, t: target(build, h) });
  }
  if (what === "upgrade") await upgrades(all);
  else if (what === "storm") await storms(all);
  else if (what === "dm") await dms(all);
  else if (what === "idle") await idles(all);
  else if (what === "room") await room100(all);
  else throw new Error(`--what=${what}: upgrade, storm, dm, room or idle`);
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}
