// Starting and stopping the servers under test, each pinned to the server core when `taskset`
// exists: `wrangler dev` (ours and the bare reference) and the plain `ws` floor. Every process
// started here is recorded by pid and stopped by pid, on success, error and SIGINT alike.
import { spawn, spawnSync } from "node:child_process";
import http from "node:http";
import { mkdtempSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { commandLine, descendants, listeningPorts } from "./proc.mjs";

const started = new Set();

export const hasTaskset = spawnSync("taskset", ["-V"]).status === 0;

/** The command prefixed with taskset to pin it to `core` (when both are available). */
function pinned(core, argv) {
  return core !== null && hasTaskset ? ["taskset", "-c", String(core), ...argv] : argv;
}

function launch(argv, { env, log, cwd }) {
  const out = openSync(log, "a");
  const child = spawn(argv[0], argv.slice(1), { cwd, env: { ...process.env, ...env }, stdio: ["ignore", out, out] });
  started.add(child.pid);
  return child;
}

/** Answers when `url` gives one of the expected statuses; null on a refused connection. */
function probe(url, statuses) {
  // Plain http with a hard timer: some ports (workerd's capnp debug port) accept and never answer.
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(statuses.includes(res.statusCode)));
      res.on("error", () => resolve(null));
    });
    const timer = setTimeout(() => { req.destroy(); resolve(null); }, 2000);
    req.on("error", () => resolve(null));
    req.on("close", () => clearTimeout(timer));
  });
}

async function waitFor(what, deadlineMs, check) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * `wrangler dev` on 127.0.0.1:port with a fresh --persist-to directory. Resolves once both the
 * proxy and the workerd behind it answer `probePath` with one of `statuses`, with:
 * proxy: wrangler's port; direct: the workerd port; pids: which process is which.
 */
export async function startWrangler({ name, root, config, port, inspectorPort, vars, tmp, core, probePath, statuses, observability = false }) {
  const persist = mkdtempSync(join(tmp, `${name}-state-`));
  const argv = [
    process.execPath, join(root, "node_modules", "wrangler", "bin", "wrangler.js"), "dev",
    "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort),
    "--persist-to", persist, "--show-interactive-dev-session=false", "--log-level", "warn",
    // The frozen copy is already one bundle: without --no-bundle, wrangler bundles it again, with
    // its development middleware around every request, and runs an esbuild watcher that preempted
    // the Worker's thread on their shared core about 30 times a second (perf sched; 2 without).
    "--no-bundle",
  ];
  for (const [k, v] of Object.entries(vars)) argv.push("--var", `${k}:${v}`);
  const log = join(tmp, `${name}-wrangler.log`);
  // Run from the frozen copy's directory: nothing wrangler might watch is in the source tree.
  // wrangler dev (4.164) streams a trace of every invocation (each websocket message, each RPC)
  // to a local collector in the same workerd, which stores it in SQLite for its explorer page. In
  // a perf profile it was 40 % of that workerd's CPU at 100 messages/s into a room of 100, and it
  // cut the closed loops to a third or a quarter (room of 100: ours 2 452 messages/s without it,
  // 642-781 with it). Deployed Workers do not pay it, so it is off for both Workers unless asked
  // for (--observability).
  const env = { WRANGLER_SEND_METRICS: "false", X_LOCAL_OBSERVABILITY: String(observability) };
  const child = launch(pinned(core, argv), { env, log, cwd: dirname(config) });
  let exited = false;
  child.on("exit", () => { exited = true; });
  await waitFor(`${name}: wrangler dev on ${port} (log: ${log})`, 90_000, async () => {
    if (exited) throw new Error(`${name}: wrangler dev exited; see ${log}`);
    return (await probe(`http://127.0.0.1:${port}${probePath}`, statuses)) === true;
  });
  const handle = { name, proxyPort: port, inspectorPort, log, wranglerPid: child.pid };
  await locateWorker(handle, probePath, statuses);
  return handle;
}

/**
 * Two workerd processes run under `wrangler dev`: its proxy (listening on the wrangler port) and
 * the one running the Worker (on a port of its own, from 0). Finds the latter and the port that
 * serves the Worker; again after a reload, which starts a new one (the state stays on disk).
 */
export async function locateWorker(handle, probePath = handle.probePath, statuses = handle.statuses) {
  Object.assign(handle, { probePath, statuses });
  let found = null;
  // Up to 90 s, as for a start: after a reload under load (1 000 sockets coming back) the new
  // workerd can take a while to answer a probe.
  await waitFor(`${handle.name}: the workerd behind wrangler`, 90_000, async () => {
    for (const pid of descendants(handle.wranglerPid)) {
      const cmd = commandLine(pid);
      if (!cmd[0]?.endsWith("workerd") || !cmd.includes("--socket-addr=entry=127.0.0.1:0")) continue;
      for (const p of listeningPorts(pid)) {
        if ((await probe(`http://127.0.0.1:${p}${probePath}`, statuses)) === true) found = { pid, port: p };
      }
    }
    return found !== null;
  });
  const tree = descendants(handle.wranglerPid);
  for (const p of tree) started.add(p);
  Object.assign(handle, {
    directPort: found.port,
    workerdPid: found.pid,
    proxyPid: tree.find((pid) => commandLine(pid).includes(`--socket-addr=entry=127.0.0.1:${handle.proxyPort}`)),
    wranglerPids: [handle.wranglerPid, ...tree.filter((p) => commandLine(p)[0]?.endsWith("node"))],
  });
  return handle;
}

/** True while the workerd found last still runs and answers on its port. */
export async function workerAlive(handle) {
  return alive(handle.workerdPid) && (await probe(`http://127.0.0.1:${handle.directPort}${handle.probePath}`, handle.statuses)) === true;
}

export async function startFloor({ root, port, tmp, core }) {
  const log = join(tmp, "floor.log");
  const child = launch(pinned(core, [process.execPath, join(root, "bench", "floor", "server.mjs"), String(port)]), { env: {}, log });
  await waitFor(`floor on ${port}`, 15_000, async () => (await probe(`http://127.0.0.1:${port}/`, [426])) !== null);
  return { name: "floor", port, pid: child.pid, log };
}

/** Stops every process started here, children first, by pid; waits briefly for them to go. */
export async function stopAll() {
  const pids = [...started];
  for (const root of pids) for (const p of descendants(root)) started.add(p);
  const all = [...started].reverse();
  for (const pid of all) {
    try { process.kill(pid, "SIGTERM"); } catch { started.delete(pid); }
  }
  const until = Date.now() + 3000;
  while (Date.now() < until && [...started].some(alive)) await sleep(100);
  for (const pid of started) if (alive(pid)) try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
  started.clear();
}

/** Stops one process this module started (and its children), by pid. */
export async function stopOne(pid) {
  const pids = [...descendants(pid).reverse(), pid];
  for (const p of pids) try { process.kill(p, "SIGTERM"); } catch { /* gone */ }
  const until = Date.now() + 3000;
  while (Date.now() < until && pids.some(alive)) await sleep(100);
  for (const p of pids) {
    if (alive(p)) try { process.kill(p, "SIGKILL"); } catch { /* gone */ }
    started.delete(p);
  }
}

/** Synchronous last resort (process 'exit'): SIGKILL by pid. */
export function killAllNow() {
  for (const pid of started) try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
