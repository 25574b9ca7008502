// `npm run bench`: drives our Worker and two references (bench/bare: a bare Durable Object with
// one SQLite insert per message; bench/floor: a plain `ws` broadcast server) with the same
// generator, frames and message sizes, in one invocation, and prints the figures side by side.
// Usage: node bench/run.mjs [--quick] [--only=ours,bare,floor] [--no-wrangler] [--out=FILE]
//   [--state=DIR] [--no-pin] [--profile [--profile-room=2]] [--budget=SECONDS] [--report=SAVED.json] [--wrangler (with --quick)] [--observability] [--keep]
//   [--scenarios=idle,room2,dm20,room100,room100mixed,latency100,catchUp,rooms10,room1000,storm,deploy] [--repeat=N] (BENCHMARKS.md)
// Loopback only; every process it starts is stopped by pid at the end, on error and on SIGINT.
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { freezeBare, freezeWorker, loadAppSocket, loadProtocol } from "./lib/build.mjs";
import { deploy } from "./lib/deploy.mjs";
import { aggregate, table } from "./lib/report.mjs";
import { storm } from "./lib/storm.mjs";
import { checkTargets, printTargets } from "./lib/goals.mjs";
import { heapUsedMb, printProfile, startProfile } from "./lib/profile.mjs";
import { round } from "./lib/stats.mjs";
import { catchUp, connectRoom, drive, fanout, idle, quietFor, seedCatchUp, settle, settleScale } from "./lib/scenarios.mjs";
import { hasTaskset, killAllNow, locateWorker, startFloor, startWrangler, stopAll, stopOne, workerAlive } from "./lib/servers.mjs";
import { LOAD_LIMITS, parseArgs } from "./lib/options.mjs";
import { OursServer, ReferenceServer, Target } from "./lib/targets.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = parseArgs(process.argv.slice(2));
// --deflate: every socket of the generator offers permessage-deflate, as browsers do (lib/client.mjs).
if (args.has("deflate")) process.env.BENCH_DEFLATE = "1";
const quick = args.has("quick");
// `noassets`: ours again, without its static assets, in the idle scenario and the storm only (a
// reading of what wrangler dev's asset pipeline costs a socket, beside the targets; build.mjs).
const only = new Set(String(args.get("only") ?? "ours,bare,floor,noassets").split(","));
// The @wrangler rows repeat the room of 100 through wrangler's proxy; --quick leaves them out
// unless --wrangler asks for them (its budget is a minute).
const viaWrangler = quick ? args.has("wrangler") : !args.has("no-wrangler");
const scenarioFilter = args.has("scenarios") ? new Set(String(args.get("scenarios")).split(",")) : null;
/** Whether any of these scenarios runs. */
const wanted = (...keys) => !scenarioFilter || keys.some((k) => scenarioFilter.has(k));
// --repeat=N: the chosen scenarios N times, interleaved (pass 1 of every scenario, then pass 2...),
// so that a slow spell of the machine falls on every server alike; medians and min-max at the end.
const repeat = Math.max(1, Number(args.get("repeat") ?? 1));

// Ports 8800-8819 are this tool's: wrangler dev for ours and bare, their inspectors, the floor.
const PORTS = { ours: 8800, bare: 8801, floor: 8802, floorIdle: 8803, oursNoAssets: 8804, oursInspector: 8810, bareInspector: 8811, oursNoAssetsInspector: 8812 };
const BODY_CHARS = 50; // a `msg` frame of ~110 bytes in msgpack

// Sizes and durations. Full: the issue's scenarios; quick: the same kinds, small, to check the tool.
const P = quick
  ? { users: 10, mid: 20, seconds: 0.6, warmup: 0.2, window: 50, bigRoom: 0, tenRooms: 5, latencySeconds: 1, catchUp: 500, idleRooms: 5, idleSeconds: 2, idleRest: 0, connectDeadline: 10, dms: 5, budgetSeconds: 150 }
  : { users: 100, mid: 100, seconds: 2, warmup: 0.5, window: 50, bigRoom: 1000, tenRooms: 100, latencySeconds: 10, catchUp: 10_000, idleRooms: 100, idleSeconds: 12, idleRest: 15, connectDeadline: 60, dms: 20, budgetSeconds: 600 };
/** Sends in flight per DM ("20 DMs, 5 in flight each"). */
const DM_WINDOW = 5;

// Servers on core 0, the generator on core 1 (--no-pin: let the scheduler place everything).
if (args.has("budget")) P.budgetSeconds = Number(args.get("budget"));
else P.budgetSeconds *= repeat;

// Ours defers work by up to a second: a full run waits 1.5 s of quiet before each measurement,
// a quick one (which only checks the tool) 0.6 s, and 0.3 s for the references.
if (quick) Object.assign(settleScale, { ours: 0.4, references: 0.6 });

const SERVER_CORE = cpus().length >= 2 && !args.has("no-pin") ? 0 : null;
// --state=/dev/shm keeps SQLite off the disk: the commit then costs CPU only, not an fsync.
const tmp = mkdtempSync(join(String(args.get("state") ?? tmpdir()), "edge-chat-bench-"));
const started = Date.now();
const log = (msg) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  await stopAll();
  // --keep: the servers' logs and state stay for reading (wrangler's log holds the Worker's console).
  if (!args.has("keep")) rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp}`);
  process.exit(code);
}
process.on("SIGINT", () => { log("interrupted: stopping servers"); void shutdown(130); });
process.on("SIGTERM", () => void shutdown(143));
// A throw in a socket's handler (a frame the generator cannot decode) must still stop the servers
// and remove the temporary directory, not only kill them on exit.
process.on("uncaughtException", (err) => {
  console.error(err);
  void shutdown(1);
});
process.on("exit", killAllNow);
// Bounded in time, whatever happens: a hung server must not hold the machine.
// Scenarios that would start past the budget are skipped; this is the hard stop.
const watchdog = setTimeout(() => { log(`over the time limit (${P.budgetSeconds * 2}s): stopping`); void shutdown(2); }, P.budgetSeconds * 2000);
watchdog.unref();

function machine() {
  const lscpu = spawnSync("lscpu", [], { encoding: "utf8" }).stdout ?? "";
  const model = /Model name:\s*(.+)/.exec(lscpu)?.[1] ?? cpus()[0]?.model;
  return { cpu: model, cores: cpus().length, memGB: Math.round(totalmem() / 2 ** 30), node: process.version, pinned: hasTaskset && SERVER_CORE !== null };
}

/** Prints the tables of a saved run again (--report=FILE): nothing is started. */
function reprint(file) {
  const saved = JSON.parse(readFileSync(file, "utf8"));
  console.log(`${saved.date} ${saved.quick ? "(quick)" : ""} ${JSON.stringify(saved.machine)}`);
  for (const r of Object.values(saved.results)) {
    if (r.kind === "profile") {
      for (const [what, prof] of Object.entries(r.by)) printProfile(`ours: ${what}, ${r.title.split(", ").pop()}`, prof);
    } else if (r.skipped) console.log(`\n== ${r.title}: skipped (${r.skipped})`);
    else console.log(table(r.title, r.kind, r.by));
  }
  // A run of several passes keeps each pass: its verdicts are worked out again, by the rules of
  // this version of the tool. Runs saved before issue 17 have a flat list without `issue`: those
  // were issue 6's.
  const targets = saved.runs && saved.params ? checkTargets(saved.runs, saved.params) : saved.targets.map((t) => ({ issue: 6, ...t }));
  console.log(printTargets(targets));
}

async function main() {
  if (args.has("report")) return reprint(String(args.get("report")));
  if (hasTaskset && SERVER_CORE !== null) {
    // The generator on core 1, every server on core 0 (set where each is started).
    // `-a` walks the threads; one that exits meanwhile fails the call, so try again once.
    const pin = () => execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
    try { pin(); } catch { pin(); }
  }
  const proto = await loadProtocol(root, tmp);
  const msgpack = { name: proto.SUBPROTOCOL_MSGPACK, codec: proto.createCodec(proto.SUBPROTOCOL_MSGPACK, proto.DEFAULT_LIMITS) };
  const json = { name: proto.SUBPROTOCOL_JSON, codec: proto.createCodec(proto.SUBPROTOCOL_JSON, proto.DEFAULT_LIMITS) };
  const short = { name: proto.SUBPROTOCOL_MSGPACK_SHORT, codec: proto.createCodec(proto.SUBPROTOCOL_MSGPACK_SHORT, proto.DEFAULT_LIMITS) };

  log("starting servers");
  const vars = LOAD_LIMITS;
  // wrangler dev's local trace collector, off for both Workers unless asked for (bench/lib/servers.mjs).
  const observability = args.has("observability");
  const [ours, bare, floor, noassets] = await Promise.all([
    only.has("ours")
      ? freezeWorker(root, tmp).then((config) =>
          startWrangler({ name: "ours", root, config, port: PORTS.ours, inspectorPort: PORTS.oursInspector, vars, tmp, core: SERVER_CORE, probePath: "/api/me", statuses: [401], observability }))
      : null,
    only.has("bare")
      ? freezeBare(root, tmp).then((config) => startWrangler({ name: "bare", root, config, port: PORTS.bare, inspectorPort: PORTS.bareInspector, vars: {}, tmp, core: SERVER_CORE, probePath: "/health", statuses: [200], observability }))
      : null,
    only.has("floor") ? startFloor({ root, port: PORTS.floor, tmp, core: SERVER_CORE }) : null,
    only.has("noassets") && wanted("idle", "storm")
      ? freezeWorker(root, tmp, { name: "ours-noassets", assets: false }).then((config) =>
          startWrangler({ name: "ours-noassets", root, config, port: PORTS.oursNoAssets, inspectorPort: PORTS.oursNoAssetsInspector, vars, tmp, core: SERVER_CORE, probePath: "/api/me", statuses: [401], observability }))
      : null,
  ]);
  const servers = {};
  const direct = {};
  const proxied = {};
  /** Servers measured for a reading beside the targets (ours without assets), not in `direct`. */
  const readings = {};
  const handles = {};
  // Points both targets of a wrangler server at its current workerd (again after a reload).
  const wire = (name) => {
    const h = handles[name];
    Object.assign(direct[name] ?? readings[name], { port: h.directPort, workerPid: h.workerdPid, rssPid: h.workerdPid, cpuPids: [h.workerdPid] });
    if (proxied[name]) Object.assign(proxied[name], { port: h.proxyPort, workerPid: h.workerdPid, rssPid: h.workerdPid, cpuPids: [h.workerdPid, h.proxyPid, ...h.wranglerPids].filter(Boolean) });
    log(`${name}: wrangler dev on ${h.proxyPort}, workerd ${h.workerdPid} on ${h.directPort}`);
  };
  for (const [name, h] of [["ours", ours], ["bare", bare], ["ours-noassets", noassets]]) {
    if (!h) continue;
    handles[name] = h;
    servers[name] = name === "bare" ? new ReferenceServer("bare") : Object.assign(new OursServer(() => `http://127.0.0.1:${h.directPort}`), { kind: name });
    const target = new Target({ label: name, server: servers[name], via: "direct" });
    if (name === "ours-noassets") readings[name] = target;
    else {
      direct[name] = target;
      proxied[name] = new Target({ label: name, server: servers[name], via: "wrangler" });
    }
    wire(name);
  }
  if (floor) {
    servers.floor = new ReferenceServer("floor");
    direct.floor = new Target({ label: "floor", server: servers.floor, port: floor.port, via: "direct", workerPid: floor.pid, cpuPids: [floor.pid], rssPid: floor.pid });
  }
  // Every process of every server (all pinned to the servers' core), for the "other servers'
  // CPU" a scenario reads beside its own: read at call time, since a reload changes the pids.
  const serverPids = () => [
    ...Object.entries(handles).flatMap(([name, h]) => [
      [`${name} workerd`, h.workerdPid],
      [`${name} proxy`, h.proxyPid],
      ...h.wranglerPids.map((p) => [`${name} wrangler`, p]),
    ]),
    ...(floor ? [["floor", floor.pid]] : []),
  ].filter(([, p]) => p);
  for (const t of [...Object.values(direct), ...Object.values(proxied), ...Object.values(readings)]) {
    t.neighbourPids = () => serverPids().filter(([, p]) => !t.cpuPids.includes(p));
  }

  // Rooms, made once per server and reused by the scenarios that fit them.
  const rooms = {};
  for (const [name, server] of Object.entries(servers)) {
    // Ours without assets runs the idle scenario and the storm only (see `only`).
    const reading = name === "ours-noassets";
    const ms = await server.signup(P.users);
    if (ms) log(`${name}: ${P.users} users signed up in ${Math.round(ms)} ms`);
    const t0 = performance.now();
    if (reading) {
      rooms[name] = { tens: await server.rooms(P.tenRooms, 10) };
      log(`${name}: rooms made in ${Math.round(performance.now() - t0)} ms`);
      continue;
    }
    // Only the rooms the chosen scenarios use (ours makes each with invitations: the 100 rooms of 10
    // alone are about 900).
    rooms[name] = {
      two: wanted("room2") || args.get("profile-room") === "2" ? await server.room(2) : null,
      hundred: wanted("room100", "room100mixed", "latency100") || args.has("profile") ? await server.room(P.mid) : null,
      big: P.bigRoom && wanted("room1000") ? await server.room(100) : null,
      catchUp: wanted("catchUp") || args.has("profile") ? await server.room(1) : null,
      tens: wanted("idle", "rooms10", "storm", "deploy") ? await server.rooms(P.tenRooms, 10) : [],
      dms: wanted("dm20") ? await server.dms(P.dms) : [],
    };
    log(`${name}: rooms made in ${Math.round(performance.now() - t0)} ms`);
  }

  // After a reload (the deploy scenario, or wrangler's own), wrangler runs a new workerd on a new
  // port: find it and point both targets at it. The state on disk is kept.
  const follow = async (h) => {
    if (!h || (await workerAlive(h))) return;
    const before = h.workerdPid;
    await locateWorker(h);
    if (h.workerdPid !== before) {
      log(`${h.name}: wrangler restarted its workerd (a reload); following the new one (state kept)`);
      wire(h.name);
    }
  };
  // One object of results per pass (--repeat), each as a run of its own.
  const runs = [];
  let results = {};
  // `first`: the label to run before the others (shown in its usual column all the same).
  const scenario = async (key, title, kind, targets, run, { first } = {}) => {
    if (scenarioFilter && !scenarioFilter.has(key)) return;
    if ((Date.now() - started) / 1000 > P.budgetSeconds) {
      log(`${title}: skipped, over the time budget of ${P.budgetSeconds} s`);
      results[key] = { title, kind, skipped: "over the time budget", by: {} };
      return;
    }
    results[key] = { title, kind, by: {} };
    const order = Object.entries(targets).sort(([a], [b]) => Number(b === first) - Number(a === first));
    for (const [label, target] of order) {
      const h = handles[target.server.kind];
      try {
        await follow(h);
      } catch (err) {
        // This target fails its scenarios; the others and the report go on.
        results[key].by[label] = { error: err instanceof Error ? err.message : String(err) };
        log(`  ${label}: ${results[key].by[label].error}`);
        continue;
      }
      const waited = await settle(target, { quietMs: quietFor(target, 1500) });
      log(`${title}: ${label}${waited > 0.5 ? ` (after ${waited} s for the server to go quiet)` : ""}`);
      // The isolate's heap as the scenario starts (what earlier scenarios left in it).
      const heapBeforeMb = h ? await heapUsedMb(h.inspectorPort).catch(() => null) : null;
      try {
        results[key].by[label] = await run(target, rooms[target.server.kind]);
        if (heapBeforeMb !== null && results[key].by[label]) results[key].by[label].heapBeforeMb = round(heapBeforeMb, 1);
      } catch (err) {
        results[key].by[label] = { error: err instanceof Error ? err.message : String(err) };
        log(`  failed: ${results[key].by[label].error}`);
      }
    }
    const by = results[key].by;
    results[key].by = Object.fromEntries(Object.keys(targets).filter((l) => l in by).map((l) => [l, by[l]]));
    console.log(table(title, kind, results[key].by));
  };
  const closed = (seconds) => ({ mode: "closed", window: P.window, seconds, warmup: P.warmup, bodyChars: BODY_CHARS });
  // The latency scenario's fixed rate (the profile samples the same).
  // The steady room's window starts once the objects its connect woke are out of memory again.
  const offered = () => ({ mode: "open", rate: 100, seconds: P.latencySeconds, warmup: P.warmup, bodyChars: BODY_CHARS, steady: true });
  const viaBoth = { ...direct, ...(viaWrangler ? Object.fromEntries(Object.entries(proxied).map(([k, v]) => [`${k}@wrangler`, v])) : {}) };

  // The web app's own reconnecting socket, for the deploy scenario (ours only).
  const appSocket = handles.ours && (!scenarioFilter || scenarioFilter.has("deploy")) ? await loadAppSocket(root, tmp) : null;
  const seeds = {};
  const pass = async (n) => {
    results = {};
    runs.push(results);
    if (repeat > 1) log(`pass ${n + 1} of ${repeat}`);
    // First, on servers that only hold the rooms: RSS deltas are per socket, not leftovers of load.
    const wakeProbe = bare ? async () => (await (await fetch(`http://127.0.0.1:${bare.directPort}/health`)).json()).constructed : null;
    const tenRoomsTitle = `${P.tenRooms} rooms of 10, closed loop, 1 in flight per room, msgpack, straight to workerd`;
    // The 100 rooms of 10 are measured on the idle scenario's sockets when both run (see idle()).
    const tensAfterIdle = !quick && P.tenRooms === P.idleRooms && (!scenarioFilter || (scenarioFilter.has("idle") && scenarioFilter.has("rooms10")));
    // The idle scenario and the storm also run on ours without assets (a reading, see `only`).
    const withReadings = { ...direct, ...readings };
    await scenario("idle", `${P.idleRooms * 10} idle sockets in ${P.idleRooms} rooms, pinging every 5 s for ${P.idleSeconds} s, straight to workerd`, "idle", withReadings, async (t, r) => {
      const opts = {
        socketsPerRoom: 10, connectDeadline: P.connectDeadline, idleSeconds: P.idleSeconds, pingEverySeconds: 5,
        wakeRooms: 10, wakeProbe: t.server.kind === "bare" ? wakeProbe : null, bodyChars: BODY_CHARS,
      };
      const tensOn = (target) =>
        tensAfterIdle
          ? async (live) => {
              await settle(target, { quietMs: quietFor(target, 1500) });
              return drive(target, live, { ...closed(P.seconds), window: 1 });
            }
          : undefined;
      if (t.server.kind !== "floor") {
        // Rested first: workerd evicts an object idle for about ten seconds, so each server's
        // objects are then woken by these sockets, as the bare object's (made by them) always are.
        // Without the rest, ours' figure carried what its set-up (sign-ups, 900 invitations) left
        // in memory just before: 1.11-1.20 x with no pause or 5 s, 0.92-0.98 x after 12-15 s
        // (BENCHMARKS.md, seventh session).
        await sleep(P.idleRest * 1000);
        return idle(t, msgpack, r.tens.slice(0, P.idleRooms), { ...opts, after: readings[t.label] ? undefined : tensOn(t) });
      }
      // The floor keeps the heap it grew in earlier scenarios: measure a fresh one (it cannot hibernate).
      const fresh = await startFloor({ root, port: PORTS.floorIdle, tmp, core: SERVER_CORE });
      try {
        const target = new Target({ label: "floor", server: t.server, port: fresh.port, via: "direct", workerPid: fresh.pid, cpuPids: [fresh.pid], rssPid: fresh.pid });
        return await idle(target, msgpack, r.tens.slice(0, P.idleRooms), { ...opts, idleSeconds: Math.min(P.idleSeconds, 6), after: tensOn(target) });
      } finally {
        await stopOne(fresh.pid);
      }
    });

    // The catch-up rooms are filled after the idle scenario (whose memory figures need servers that
    // hold only the rooms: a reference filled earlier released memory during the idle time), all
    // servers at once (each is bound by its own commits); the messages are only the setting: what is
    // measured is the reconnect that replays them, in its turn below.
    if (n === 0 && (!scenarioFilter || scenarioFilter.has("catchUp"))) {
      const t0 = performance.now();
      await Promise.all(Object.entries(direct).map(async ([name, t]) => {
        seeds[name] = await seedCatchUp(t, msgpack, rooms[name].catchUp, { events: P.catchUp, bodyChars: BODY_CHARS });
      }));
      log(`catch-up rooms filled with ${P.catchUp} messages each in ${Math.round(performance.now() - t0)} ms (${Object.entries(seeds).map(([n, x]) => `${n} ${x.seedPerSecond}/s`).join(", ")})`);
    }

    await scenario("room2", "Room of 2, closed loop, 50 sends in flight, msgpack, straight to workerd", "drive", direct, (t, r) =>
      fanout(t, msgpack, [r.two], { ...closed(P.seconds), socketsPerRoom: 2, connectDeadline: P.connectDeadline }));
    await scenario("dm20", `${P.dms} DMs, closed loop, ${DM_WINDOW} sends in flight each, msgpack, straight to workerd (the references: rooms of 2)`, "drive", direct, (t, r) =>
      fanout(t, msgpack, r.dms, { ...closed(P.seconds), window: DM_WINDOW, socketsPerRoom: 2, connectDeadline: P.connectDeadline }));
    await scenario("room100", `Room of ${P.mid}, closed loop, 50 sends in flight, msgpack (@wrangler: through wrangler dev's proxy)`, "drive", viaBoth, (t, r) =>
      fanout(t, msgpack, [r.hundred], { ...closed(P.seconds), socketsPerRoom: P.mid, connectDeadline: P.connectDeadline }));
    // Ours only (the references speak the two codecs of the contract, not the short names): one
    // room of clients half on JSON, half on short names, each codec's bytes counted on its sockets.
    await scenario("room100mixed", `Room of ${P.mid}, closed loop, 50 sends in flight, half the sockets on JSON and half on msgpack with short names, straight to workerd`, "drive", direct.ours ? { ours: direct.ours } : {}, (t, r) =>
      fanout(t, [json, short], [r.hundred], { ...closed(P.seconds), socketsPerRoom: P.mid, connectDeadline: P.connectDeadline }));
    await scenario("latency100", `Room of ${P.mid}, 100 messages/s offered, msgpack, straight to workerd`, "drive", direct, (t, r) =>
      fanout(t, msgpack, [r.hundred], { ...offered(), socketsPerRoom: P.mid, connectDeadline: P.connectDeadline }));
    await scenario("catchUp", `Catch-up of ${P.catchUp.toLocaleString("en-US")} missed messages on reconnect (since=..., pages of 200), straight to workerd`, "catchUp", direct, (t, r) =>
      catchUp(t, msgpack, r.catchUp, { events: P.catchUp, bodyChars: BODY_CHARS, seeded: seeds[t.server.kind] }));
    if (tensAfterIdle && results.idle) {
      results.rooms10 = { title: `${tenRoomsTitle} (on the idle scenario's sockets, right after it)`, kind: "drive", by: {} };
      for (const [label, r] of Object.entries(results.idle.by)) {
        if (r.then) results.rooms10.by[label] = { connectMs: r.connectMs, ...r.then };
        delete r.then;
      }
      console.log(table(results.rooms10.title, "drive", results.rooms10.by));
    } else if (!quick) {
      await scenario("rooms10", tenRoomsTitle, "drive", direct, (t, r) =>
        fanout(t, msgpack, r.tens, { ...closed(P.seconds), window: 1, socketsPerRoom: 10, connectDeadline: P.connectDeadline }));
    }
    if (P.bigRoom) {
      await scenario("room1000", "Room of 1 000 sockets (100 users x 10), closed loop, 50 in flight, msgpack, straight to workerd", "drive", direct, (t, r) =>
        fanout(t, msgpack, [r.big], { ...closed(P.seconds), socketsPerRoom: P.bigRoom, connectDeadline: P.connectDeadline }));
    }
    await scenario("storm", `Reconnect storm: ${P.tenRooms * 10} sockets (${Math.min(P.users, P.tenRooms * 10)} users x ${Math.round((P.tenRooms * 10) / Math.min(P.users, P.tenRooms * 10))}) in ${P.tenRooms} rooms of 10 back at once with since, straight to workerd`, "storm", withReadings, (t, r) =>
      storm(t, msgpack, r.tens, { socketsPerRoom: 10, connectDeadline: P.connectDeadline, bodyChars: BODY_CHARS, watch: t.server.kind === "ours" }),
      // The first storm of a run is slower for whoever takes it: `compare.mjs --what=storm` read
      // the bare object's at 839 ms first and 641 ms after ours, and ours' first pass was the
      // worst of its three in both full runs of the nineteenth session (BENCHMARKS.md). The plain
      // `ws` hub, whose storm no target reads, takes it.
      { first: "floor" });
    // Last of a pass: the reload starts a new workerd for ours (its state kept on disk, every object
    // reset). Through wrangler dev's port, the address that outlives the reload as a hostname
    // outlives a deploy.
    if (handles.ours && appSocket) {
      await scenario("deploy", `A deploy: every socket of ${P.tenRooms * 10} in ${P.tenRooms} rooms of 10 closed by a reload of ours, the web app's ReconnectingSocket brings them back (through wrangler dev)`, "deploy", { ours: proxied.ours }, (_t, r) =>
        deploy(appSocket, {
          base: `ws://127.0.0.1:${handles.ours.proxyPort}`, rooms: r.tens, socketsPerRoom: 10, bodyChars: BODY_CHARS, deadlineSeconds: P.connectDeadline * 2,
          reload: () => appendFileSync(join(tmp, "ours", "worker.js"), `\n// bench: a deploy at ${new Date().toISOString()}\n`),
        }));
      await follow(handles.ours).catch((err) => log(`ours: ${err instanceof Error ? err.message : err}`));
    }
  };
  for (let n = 0; n < repeat; n++) await pass(n);

  if (args.has("profile") && direct.ours) {
    // Last, and on their own: the profiler slows the Worker down, so no figure above carries it.
    // Two profiles: connecting the room's sockets, then the closed loop alone.
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    mkdirSync(join(root, "bench", "results"), { recursive: true });
    await settle(direct.ours);
    // --profile-room=2: the room of 2 instead, where the per-message cost is not shared by 100.
    const [profRoom, profSize] = args.get("profile-room") === "2" ? [rooms.ours.two, 2] : [rooms.ours.hundred, P.mid];
    log(`profiling ours: connecting ${profSize} sockets`);
    let profiler = await startProfile(PORTS.oursInspector);
    const t0 = performance.now();
    const sockets = await connectRoom(direct.ours, profRoom, profSize, msgpack, { deadline: P.connectDeadline * 2 });
    const connectMs = Math.round(performance.now() - t0);
    const connectProfile = await profiler.stop(join(root, "bench", "results", `profile-connect-${stamp}.cpuprofile`));
    await settle(direct.ours);
    log(`profiling ours: closed loop in the room of ${profSize}`);
    profiler = await startProfile(PORTS.oursInspector);
    let figures;
    let sendProfile;
    let openFigures;
    let openProfile;
    try {
      figures = await drive(direct.ours, [{ room: profRoom, sockets, sender: sockets[0] }], closed(P.seconds));
      sendProfile = await profiler.stop(join(root, "bench", "results", `profile-send-${stamp}.cpuprofile`));
      // Then the fixed rate of the latency scenario: its tail is made of the longest busy stretches.
      await settle(direct.ours);
      log(`profiling ours: 100 messages/s offered into the room of ${profSize}`);
      profiler = await startProfile(PORTS.oursInspector, undefined, { allocations: true });
      openFigures = await drive(direct.ours, [{ room: profRoom, sockets, sender: sockets[0] }], offered());
      openProfile = await profiler.stop(join(root, "bench", "results", `profile-open-${stamp}.cpuprofile`));
    } finally {
      await Promise.all(sockets.map((s) => s.close()));
    }
    // Third: a catch-up, storing the messages unprofiled and profiling only the reconnect.
    log(`profiling ours: catch-up of ${P.catchUp} events`);
    let catchUpProfile = null;
    const caught = await catchUp(direct.ours, msgpack, rooms.ours.catchUp, {
      events: P.catchUp, bodyChars: BODY_CHARS,
      beforeReconnect: async () => { profiler = await startProfile(PORTS.oursInspector); },
      afterReconnect: async () => { catchUpProfile = await profiler.stop(join(root, "bench", "results", `profile-catchup-${stamp}.cpuprofile`)); },
    });
    results.profile = {
      title: `CPU profiles of ours, room of ${profSize}`,
      kind: "profile",
      by: {
        connect: { connectMs, ...connectProfile },
        send: { messagesPerSecond: figures.messagesPerSecond, ...sendProfile },
        open: { fanoutP99Ms: openFigures.fanoutMs.p99, ...openProfile },
        catchUp: { catchUpMs: caught.catchUpMs, ...catchUpProfile },
      },
    };
    printProfile(`ours: connecting ${profSize} sockets (${connectMs} ms while profiling)`, connectProfile);
    printProfile(`ours: closed loop, room of ${profSize} (${figures.messagesPerSecond} msg/s while profiling)`, sendProfile);
    printProfile(`ours: 100 messages/s offered, room of ${profSize} (fan-out p99 ${openFigures.fanoutMs.p99} ms while profiling)`, openProfile);
    printProfile(`ours: catch-up of ${P.catchUp} events (${caught.catchUpMs} ms while profiling)`, catchUpProfile);
  }

  // With --repeat, each scenario's figures are the medians of its passes (the spread is in the JSON).
  const merged = repeat > 1 ? aggregate(runs) : runs[0];
  if (repeat > 1) {
    for (const r of Object.values(merged)) if (r.kind !== "profile" && !r.skipped) console.log(table(`${r.title} (median of ${repeat} passes)`, r.kind, r.by));
  }
  const summary = checkTargets(runs, P);
  console.log(printTargets(summary));
  const out = String(args.get("out") ?? join(root, "bench", "results", `${new Date().toISOString().replace(/[:.]/g, "-")}${quick ? "-quick" : ""}.json`));
  mkdirSync(dirname(out), { recursive: true });
  const saved = { date: new Date().toISOString(), machine: machine(), quick, observability, repeat, params: P, ports: PORTS, results: merged, runs: repeat > 1 ? runs : undefined, targets: summary, elapsedSeconds: (Date.now() - started) / 1000 };
  writeFileSync(out, JSON.stringify(saved, null, 2));
  log(`wrote ${out}`);
}

main().then(
  () => shutdown(0),
  (err) => {
    console.error(err);
    void shutdown(1);
  },
);
