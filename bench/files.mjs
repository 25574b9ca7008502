// Upload and download throughput of a file through `wrangler dev` (PROTOCOL.md 7.4), and the
// memory of the workerd process that runs the Worker while the bytes stream through it.
//
// Usage: node bench/files.mjs [--mib=5] [--runs=5] [--out=FILE]
//
// Starts `wrangler dev` on 127.0.0.1 (a frozen copy of the Worker, a scratch --persist-to, so the
// local R2 bucket is a new one), signs up two people, opens a DM, then uploads the file `runs`
// times and downloads it `runs` times through wrangler's own port, timing each and sampling the
// RSS of the Worker's workerd every 10 ms. Stops everything it started by pid.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freezeWorker } from "./lib/build.mjs";
import { rssBytes } from "./lib/proc.mjs";
import { killAllNow, startWrangler, stopAll } from "./lib/servers.mjs";
import WebSocket from "ws";

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")).map(([k, v]) => [k, v ?? "1"]));
const MIB = Number(args.get("mib") ?? 5);
const RUNS = Number(args.get("runs") ?? 5);
const SIZE = Math.round(MIB * 1024 * 1024);
const PORT = 8840;
const root = resolve(import.meta.dirname, "..");
const log = (...a) => console.error("[files]", ...a);
process.on("exit", killAllNow);
process.on("SIGINT", () => process.exit(130));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (bytes) => bytes / (1024 * 1024);

/** Samples a process's RSS every `ms` until stopped: the highest seen. */
function sampler(pid, ms = 10) {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, ms);
  return () => {
    clearInterval(timer);
    return Math.max(peak, rssBytes(pid));
  };
}

/**
 * The Worker's own isolate through wrangler's inspector proxy: its JS heap and the ArrayBuffer
 * backing stores it holds (Runtime.getHeapUsage), apart from the local R2 bucket's isolate.
 */
async function workerHeap(inspectorPort) {
  const list = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = list.find((t) => t.webSocketDebuggerUrl);
  if (!target) return null;
  const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  let id = 0;
  const waiting = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    const w = waiting.get(msg.id);
    if (w) { waiting.delete(msg.id); w(msg.result ?? {}); }
  });
  const call = (method, params = {}) => new Promise((resolve) => { const n = ++id; waiting.set(n, resolve); ws.send(JSON.stringify({ id: n, method, params })); });
  const usage = async () => {
    const u = await call("Runtime.getHeapUsage");
    return (u.usedSize ?? 0) + (u.backingStorageSize ?? 0);
  };
  return {
    usage,
    gc: () => call("HeapProfiler.collectGarbage"),
    /** Polls usage every `ms` until stopped: the highest seen. */
    sample(ms = 10) {
      let peak = 0;
      let on = true;
      const loop = (async () => { while (on) { peak = Math.max(peak, await usage()); await sleep(ms); } })();
      return async () => { on = false; await loop; return peak; };
    },
    fields: () => call("Runtime.getHeapUsage"),
    close: () => ws.close(),
  };
}

async function json(res) {
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.status} ${text}`);
  return JSON.parse(text);
}

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), "bench-files-"));
  try {
    const config = await freezeWorker(root, tmp);
    const h = await startWrangler({
      name: "files", root, config, port: PORT, inspectorPort: PORT + 1, tmp, core: null,
      // The bench sends a dozen requests a second at most; the per-user HTTP budget stays as is.
      vars: {}, probePath: "/api/me", statuses: [401],
    });
    const base = `http://127.0.0.1:${h.proxyPort}`;
    log(`wrangler dev on ${h.proxyPort}; the Worker's workerd is pid ${h.workerdPid}`);
    const people = [];
    for (const who of ["alice", "bob"]) {
      const username = `${who}${Date.now().toString(36)}`;
      const { token } = await json(await fetch(`${base}/api/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password: "bench password" }) }));
      people.push({ username, token });
    }
    const [alice, bob] = people;
    const { conversation } = await json(await fetch(`${base}/api/conversations`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${alice.token}` }, body: JSON.stringify({ kind: "dm", with: bob.username }) }));
    const bytes = new Uint8Array(SIZE);
    for (let i = 0; i < SIZE; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(SIZE, i + 65536)));

    // A warm-up pair, not counted: the first request compiles and instantiates the objects.
    const warm = await json(await fetch(`${base}/api/conversations/${conversation.id}/files`, { method: "POST", headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/octet-stream", "x-file-name": "warm.bin" }, body: bytes.subarray(0, 1024) }));
    await (await fetch(`${base}/api/conversations/${conversation.id}/files/${warm.file.id}`, { headers: { authorization: `Bearer ${bob.token}` } })).arrayBuffer();
    await sleep(500);
    const idle = rssBytes(h.workerdPid);
    const heap = await workerHeap(PORT + 1).catch((err) => {
      log(`no inspector: ${err.message}`);
      return null;
    });
    if (heap) log(`Worker isolate heap fields: ${JSON.stringify(await heap.fields())}`);

    /**
     * Runs one transfer with the workerd's RSS and the Worker's heap sampled around it (after a
     * forced GC), checks that `size` bytes moved, and logs and returns the figures.
     */
    const measured = async (label, transfer) => {
      await heap?.gc();
      const heapBefore = heap ? await heap.usage() : 0;
      const stopHeap = heap?.sample();
      const stop = sampler(h.workerdPid);
      const before = rssBytes(h.workerdPid);
      const t0 = performance.now();
      const { bytes: moved, value } = await transfer();
      const ms = performance.now() - t0;
      const peak = stop();
      const heapPeak = stopHeap ? await stopHeap() : 0;
      if (moved !== SIZE) throw new Error(`${label}: ${moved} bytes, expected ${SIZE}`);
      log(`${label}: ${ms.toFixed(0)} ms, ${(mib(SIZE) / (ms / 1000)).toFixed(1)} MiB/s, RSS ${mib(before).toFixed(1)} → peak ${mib(peak).toFixed(1)} MiB; Worker heap ${mib(heapBefore).toFixed(2)} → peak ${mib(heapPeak).toFixed(2)} MiB`);
      return { run: { ms, mibPerSec: mib(SIZE) / (ms / 1000), rssBefore: before, rssPeak: peak, heapBefore, heapPeak }, value };
    };

    const uploads = [];
    const ids = [];
    for (let i = 0; i < RUNS; i++) {
      const { run, value } = await measured(`upload ${i + 1}`, async () => {
        const res = await fetch(`${base}/api/conversations/${conversation.id}/files`, { method: "POST", headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/octet-stream", "x-file-name": `run-${i}.bin` }, body: bytes });
        const { file } = await json(res);
        return { bytes: file.size, value: file.id };
      });
      ids.push(value);
      uploads.push(run);
    }
    const downloads = [];
    for (let i = 0; i < RUNS; i++) {
      const { run } = await measured(`download ${i + 1}`, async () => {
        const res = await fetch(`${base}/api/conversations/${conversation.id}/files/${ids[i]}`, { headers: { authorization: `Bearer ${bob.token}` } });
        if (res.status !== 200) throw new Error(`download: ${res.status}`);
        // Read as a stream, as a browser would, counting bytes.
        let got = 0;
        for await (const chunk of res.body) got += chunk.byteLength;
        return { bytes: got, value: null };
      });
      downloads.push(run);
    }
    heap?.close();
    await sleep(1000);
    const after = rssBytes(h.workerdPid);
    const summary = (runs) => ({
      medianMs: Math.round(median(runs.map((r) => r.ms))),
      medianMiBPerSec: Number(median(runs.map((r) => r.mibPerSec)).toFixed(1)),
      bestMiBPerSec: Number(Math.max(...runs.map((r) => r.mibPerSec)).toFixed(1)),
      maxRssRiseMiB: Number(mib(Math.max(...runs.map((r) => r.rssPeak - r.rssBefore))).toFixed(1)),
      peakRssMiB: Number(mib(Math.max(...runs.map((r) => r.rssPeak))).toFixed(1)),
      maxWorkerHeapRiseMiB: Number(mib(Math.max(...runs.map((r) => r.heapPeak - r.heapBefore))).toFixed(2)),
    });
    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Number((totalmem() / 2 ** 30).toFixed(1)), node: process.version },
      fileMiB: MIB,
      runs: RUNS,
      rssIdleMiB: Number(mib(idle).toFixed(1)),
      rssAfterMiB: Number(mib(after).toFixed(1)),
      upload: summary(uploads),
      download: summary(downloads),
      raw: { uploads, downloads },
    };
    const out = args.get("out") ?? join(root, "bench", "results", `files-${report.date.replace(/[:.]/g, "-")}.json`);
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify({ ...report, raw: undefined }, null, 2));
    log(`written to ${out}`);
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
