// A CPU profile of the Worker while the generator drives it: the Chrome DevTools protocol on the
// inspector of the Worker behind `wrangler dev` (through wrangler's --inspector-port). Writes a
// .cpuprofile (open it in Chrome DevTools) and returns the functions with the most self time.
import { writeFileSync } from "node:fs";
import WebSocket from "ws";

/**
 * The Worker's inspector target, through wrangler's inspector proxy (`--inspector-port`): the
 * workerd's own inspector port accepts a second session but does not answer it while wrangler
 * holds the first.
 */
async function inspectorTargets(wranglerInspectorPort) {
  const res = await fetch(`http://127.0.0.1:${wranglerInspectorPort}/json/list`, { signal: AbortSignal.timeout(5000) });
  const list = await res.json();
  if (!Array.isArray(list) || !list.some((t) => t.webSocketDebuggerUrl)) throw new Error(`no inspector target on ${wranglerInspectorPort}`);
  return list;
}

async function session(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  let id = 0;
  const waiting = new Map();
  const me = { onEvent: null };
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.id === undefined) me.onEvent?.(msg);
    else if (waiting.has(msg.id)) {
      const { resolve, reject } = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error) reject(new Error(msg.error.message));
      else resolve(msg.result);
    }
  });
  return Object.assign(me, {
    call: (method, params = {}) => new Promise((resolve, reject) => {
      const n = ++id;
      const timer = setTimeout(() => reject(new Error(`inspector: no answer to ${method}`)), 15_000);
      waiting.set(n, { resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
      ws.send(JSON.stringify({ id: n, method, params }));
    }),
    close: () => ws.close(),
  });
}

/**
 * Starts sampling the Worker; `stop(file)` writes the profile and summarises it. With `allocations`,
 * V8's sampling heap profiler runs beside it, counting what is allocated, collected or not (one
 * sample per 16 KB on average): what the garbage collector's stops are paid for. With
 * `allocations: "survivors"` it counts only what outlived a scavenge (the young generation's
 * collection): what is promoted to the old generation, whose collections are the long stops.
 */
export async function startProfile(wranglerInspectorPort, intervalUs = 200, { allocations = false } = {}) {
  const targets = await inspectorTargets(wranglerInspectorPort);
  const sessions = [];
  for (const t of targets) {
    if (!t.webSocketDebuggerUrl) continue;
    const s = await session(t.webSocketDebuggerUrl);
    await s.call("Profiler.enable");
    await s.call("Profiler.setSamplingInterval", { interval: intervalUs });
    await s.call("Profiler.start");
    if (allocations) {
      await s.call("HeapProfiler.enable");
      await s.call("HeapProfiler.startSampling", { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: allocations !== "survivors" });
    }
    sessions.push({ s, title: t.title ?? t.id });
  }
  return {
    async stop(file) {
      const profiles = [];
      for (const { s, title } of sessions) {
        const { profile } = await s.call("Profiler.stop");
        const heap = allocations ? (await s.call("HeapProfiler.stopSampling")).profile : null;
        s.close();
        profiles.push({ title, profile, heap });
      }
      const main = profiles.sort((a, b) => b.profile.samples.length - a.profile.samples.length)[0];
      if (!main) return { file: null, top: [] };
      writeFileSync(file, JSON.stringify(main.profile));
      return { file, target: main.title, ...summarise(main.profile), ...(main.heap ? { allocated: allocationSites(main.heap) } : {}) };
    },
  };
}

/**
 * Bytes allocated by each place (a function with its two callers), most first, from a sampling
 * heap profile. A native function's allocations (a websocket's send, a SQL statement) count for
 * the JavaScript function that called it, and a function inlined into its caller counts as the
 * caller (V8 walks physical frames).
 */
function allocationSites(heap, count = 12) {
  const sites = new Map();
  let total = 0;
  const walk = (node, callers) => {
    const key = keyOf(node.callFrame);
    const bytes = node.selfSize ?? 0;
    total += bytes;
    if (bytes > 0) {
      const site = [key, ...callers.slice(-2).reverse()].join(" < ");
      sites.set(site, (sites.get(site) ?? 0) + bytes);
    }
    for (const c of node.children ?? []) walk(c, [...callers, key]);
  };
  walk(heap.head, []);
  const top = [...sites.entries()].sort((a, b) => b[1] - a[1]).slice(0, count)
    .map(([site, bytes]) => ({ site, mb: Math.round(bytes / 1e5) / 10, share: `${((bytes / total) * 100).toFixed(1)} %` }));
  return { totalMb: Math.round(total / 1e5) / 10, top };
}

/**
 * What each sample stands for, in ms. A sample's time delta is the time since the one before;
 * when the sampler's own thread did not get the CPU (two cores shared by workerd, the generator
 * and wrangler), a delta spans a gap in which nothing was seen, and it would all be charged to the
 * next sample's function: one such gap showed as a 184 ms stretch of `fromB64url` (a function that
 * runs for microseconds). So a delta counts for at most GAP_CAP_MS; the rest is reported apart.
 */
const GAP_CAP_MS = 5;
function sampleWeights(timeDeltas) {
  let gapMs = 0;
  const ms = timeDeltas.map((d) => {
    const dt = (d ?? 0) / 1000;
    if (dt <= GAP_CAP_MS) return dt;
    gapMs += dt - GAP_CAP_MS;
    return GAP_CAP_MS;
  });
  return { ms, gapMs };
}

const keyOf = (f) => {
  const file = f?.url ? f.url.split("/").pop() : "";
  return `${f?.functionName || "(anonymous)"} ${file}${f?.url ? `:${f.lineNumber + 1}` : ""}`.trim();
};

/**
 * Self time per function (ms and share of the samples), most first, and inclusive time (the
 * function and what it called) for the named functions of the bundle: the second shows which
 * path of ours the time goes to.
 */
function summarise(profile) {
  const { nodes, samples, timeDeltas } = profile;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const selfById = new Map();
  const { ms: weight, gapMs } = sampleWeights(timeDeltas);
  let total = 0;
  samples.forEach((id, i) => {
    const dt = weight[i];
    total += dt;
    selfById.set(id, (selfById.get(id) ?? 0) + dt);
  });
  const self = new Map();
  for (const [id, ms] of selfById) {
    const key = keyOf(byId.get(id)?.callFrame);
    self.set(key, (self.get(key) ?? 0) + ms);
  }
  // Inclusive: walk down from the root, counting each function once per path (recursion-safe).
  const inclusive = new Map();
  const walk = (id, onPath) => {
    const n = byId.get(id);
    let sum = selfById.get(id) ?? 0;
    const key = keyOf(n.callFrame);
    const fresh = !onPath.has(key);
    if (fresh) onPath.add(key);
    for (const c of n.children ?? []) sum += walk(c, onPath);
    if (fresh) {
      onPath.delete(key);
      if (n.callFrame.url && n.callFrame.functionName) inclusive.set(key, (inclusive.get(key) ?? 0) + sum);
    }
    return sum;
  };
  const root = nodes.find((n) => !nodes.some((m) => m.children?.includes(n.id)));
  if (root) walk(root.id, new Set());
  const rank = (m, n) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([fn, ms]) => ({ fn, ms: Math.round(ms), share: `${((ms / total) * 100).toFixed(1)} %` }));
  return { totalMs: Math.round(total), gapMs: Math.round(gapMs), top: rank(self, 25), inclusive: rank(inclusive, 25), stalls: stalls(profile, byId, weight) };
}

/**
 * The longest stretches in which the isolate never went idle, each with when it began (ms into
 * the profile) and the three functions with the most self time in it: at a fixed offered rate,
 * these are what a message that arrives meanwhile waits for, so they make the latency tail.
 */
function stalls(profile, byId, weight, count = 5) {
  const { nodes, samples, timeDeltas } = profile;
  const parent = new Map();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // A native function (exec, send) is named with the nearest function of ours that called it.
  const named = (id) => {
    const own = keyOf(byId.get(id)?.callFrame);
    if (byId.get(id)?.callFrame.url) return own;
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const f = byId.get(p)?.callFrame;
      if (f?.url && f.functionName) return `${own} < ${keyOf(f)}`;
    }
    return own;
  };
  const idle = (id) => byId.get(id)?.callFrame.functionName === "(idle)";
  const found = [];
  let t = 0;
  let open = null;
  samples.forEach((id, i) => {
    const dt = weight[i];
    t += (timeDeltas[i] ?? 0) / 1000; // when, in wall time; how long, in what was seen
    if (idle(id)) {
      if (open) found.push(open);
      open = null;
      return;
    }
    open ??= { at: t, ms: 0, self: new Map() };
    open.ms += dt;
    const key = named(id);
    open.self.set(key, (open.self.get(key) ?? 0) + dt);
  });
  if (open) found.push(open);
  return found.sort((a, b) => b.ms - a.ms).slice(0, count).map((s) => ({
    atMs: Math.round(s.at),
    ms: Math.round(s.ms * 10) / 10,
    top: [...s.self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([fn, ms]) => `${fn} ${ms.toFixed(1)} ms`),
  }));
}

/** Prints a profile summary (from `stop()`): self time, inclusive time, the longest busy stretches. */
export function printProfile(title, prof) {
  const gaps = prof.gapMs ? ` (and ${prof.gapMs} ms of gaps in the sampling, left out)` : "";
  console.log(`\n== CPU profile of ${title}, ${prof.totalMs} ms sampled${gaps}, ${prof.file}\n-- self time`);
  for (const t of prof.top ?? []) console.log(`${String(t.ms).padStart(7)} ms  ${t.share.padStart(7)}  ${t.fn}`);
  console.log("-- inclusive time (the function and its callees), named functions of the Worker");
  for (const t of prof.inclusive ?? []) console.log(`${String(t.ms).padStart(7)} ms  ${t.share.padStart(7)}  ${t.fn}`);
  if (prof.stalls?.length) console.log("-- longest busy stretches (ms into the profile: length; most self time)");
  for (const s of prof.stalls ?? []) console.log(`${String(s.atMs).padStart(7)} ms: ${s.ms} ms; ${s.top.join(", ")}`);
  if (!prof.allocated) return;
  console.log(`-- allocated meanwhile (sampled): ${prof.allocated.totalMb} MB, by where`);
  for (const a of prof.allocated.top) console.log(`${String(a.mb).padStart(7)} MB  ${a.share.padStart(7)}  ${a.site}`);
}

/**
 * What the Worker's isolate holds now: a heap snapshot through the inspector, summed by kind and
 * by constructor (self sizes), the largest first. A major collection marks all of it, so its
 * size is part of how long the collector's stops are.
 */
/**
 * The megabytes the Worker's isolates hold on their heap now, live and not yet collected (no
 * collection is forced): a larger heap makes each of the collector's full passes longer.
 */
export async function heapUsedMb(wranglerInspectorPort) {
  let used = 0;
  for (const t of await inspectorTargets(wranglerInspectorPort)) {
    if (!t.webSocketDebuggerUrl) continue;
    const s = await session(t.webSocketDebuggerUrl);
    try {
      used += (await s.call("Runtime.getHeapUsage")).usedSize;
    } finally {
      s.close();
    }
  }
  return used / 2 ** 20;
}

export async function heapSummary(wranglerInspectorPort, count = 15) {
  const targets = await inspectorTargets(wranglerInspectorPort);
  const summaries = [];
  for (const t of targets) {
    if (!t.webSocketDebuggerUrl) continue;
    const s = await session(t.webSocketDebuggerUrl);
    const chunks = [];
    s.onEvent = (msg) => { if (msg.method === "HeapProfiler.addHeapSnapshotChunk") chunks.push(msg.params.chunk); };
    try {
      // A snapshot collects garbage first.
      await s.call("HeapProfiler.enable");
      await s.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    } catch (e) {
      console.error(`heap snapshot of ${t.title ?? t.id}: ${e.message}`);
      continue;
    } finally {
      s.close();
    }
    const snap = JSON.parse(chunks.join(""));
    const fields = snap.snapshot.meta.node_fields;
    const types = snap.snapshot.meta.node_types[0];
    const [iType, iName, iSize] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
    const byKind = new Map();
    const byName = new Map();
    let total = 0;
    for (let i = 0; i < snap.nodes.length; i += fields.length) {
      const kind = types[snap.nodes[i + iType]];
      const size = snap.nodes[i + iSize];
      total += size;
      byKind.set(kind, (byKind.get(kind) ?? 0) + size);
      const name = kind === "object" || kind === "closure" ? `${kind} ${snap.strings[snap.nodes[i + iName]]}` : kind;
      byName.set(name, (byName.get(name) ?? 0) + size);
    }
    const top = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, count).map(([k, v]) => `${(v / 1e6).toFixed(2).padStart(7)} MB  ${k}`);
    summaries.push({ title: t.title ?? t.id, totalMb: total / 1e6, kinds: top(byKind), names: top(byName) });
  }
  return summaries.sort((a, b) => b.totalMb - a.totalMb)[0];
}
