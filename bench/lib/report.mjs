// The stdout table: one block per scenario, a column per target, and ratios of ours to each
// reference (for rates, ours/ref; for latencies and costs, ours/ref as well: read with the unit).
const fmt = (v) => (v === null || v === undefined ? "-" : typeof v === "number" ? (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en-US") : String(v)) : String(v));
const ratio = (a, b) => (typeof a === "number" && typeof b === "number" && b !== 0 ? `${(a / b).toFixed(2)}x` : "-");

export const METRICS = {
  drive: [
    ["messages/s", (r) => r.messagesPerSecond],
    ["deliveries/s", (r) => r.deliveriesPerSecond],
    ["ack p50 ms", (r) => r.ackMs.p50],
    ["ack p99 ms", (r) => r.ackMs.p99],
    ["fan-out p50 ms", (r) => r.fanoutMs.p50],
    ["fan-out p99 ms", (r) => r.fanoutMs.p99],
    ["last member p50 ms", (r) => r.lastMemberMs.p50],
    ["last member p99 ms", (r) => r.lastMemberMs.p99],
    ["lost/dup/out-of-order", (r) => `${r.lost}/${r.duplicated}/${r.outOfOrder}`],
    ["unacked/errors", (r) => `${r.unacked}/${r.errors}`],
    ["msg frame bytes", (r) => r.msgFrameBytes],
    ["msg frame bytes by codec", (r) => (r.msgFrameBytesByCodec && Object.keys(r.msgFrameBytesByCodec).length > 1
      ? Object.entries(r.msgFrameBytesByCodec).map(([k, v]) => `${k.replace("chat.v1.", "")} ${v}`).join(", ")
      : null)],
    ["msg frames per ws message", (r) => r.msgFramesPerWsMessage],
    ["server CPU cores", (r) => r.serverCores],
    ["worker CPU cores", (r) => r.workerCores],
    ["server CPU us/message", (r) => r.serverCpuUsPerMessage],
    ["generator CPU cores", (r) => r.generatorCores],
    ["connect all sockets ms", (r) => r.connectMs],
  ],
  catchUp: [
    ["events", (r) => r.events],
    ["catch-up ms", (r) => r.catchUpMs],
    ["upgrade ms (to the 101)", (r) => r.upgradeMs],
    ["upgrade ms again, objects awake", (r) => r.warmUpgradeMs],
    ["page ms p50 / max", (r) => (r.pageMs ? `${r.pageMs.p50} / ${r.pageMs.max}` : null)],
    ["pages (synced frames)", (r) => r.pages],
    ["lost/dup/out-of-order", (r) => `${r.lost}/${r.duplicated}/${r.outOfOrder}`],
    ["worker CPU ms", (r) => r.workerCpuMs],
    ["seeding msgs/s (1 member, all servers at once)", (r) => r.seedPerSecond],
  ],
  idle: [
    ["sockets / rooms", (r) => `${r.sockets} / ${r.rooms}`],
    ["connect all ms", (r) => r.connectMs],
    ["RSS before MB", (r) => r.rssBeforeMB],
    ["RSS connected MB", (r) => r.rssConnectedMB],
    ["RSS after idle MB", (r) => r.rssIdleMB],
    ["bytes/socket connected", (r) => r.bytesPerSocketConnected],
    ["bytes/socket after idle", (r) => r.bytesPerSocketIdle],
    ["pings/s answered", (r) => r.pingsPerSecond],
    ["server CPU cores idle", (r) => r.idleServerCores],
    ["first send after idle p50 ms", (r) => r.firstSendAfterIdleMs.p50],
    ["warm send p50 ms", (r) => r.warmSendMs.p50],
    ["objects woken (bare)", (r) => r.objectsWoken],
  ],
};

/**
 * Text table for one scenario: `results` maps a target label to its figures (or {error}).
 * Ratios pair ours with each reference reached the same way: ours/bare, ours@wrangler/bare@wrangler.
 */
export function table(title, kind, results) {
  const labels = Object.keys(results);
  const pairs = labels
    .filter((l) => !l.startsWith("ours"))
    .map((ref) => [ref.includes("@") ? `ours@${ref.split("@")[1]}` : "ours", ref])
    .filter(([ours]) => labels.includes(ours));
  const header = ["", ...labels, ...pairs.map(([o, r]) => `${o}/${r}`)];
  const rows = [header];
  const value = (label, get) => (results[label].error ? null : get(results[label]));
  for (const [name, get] of METRICS[kind]) {
    rows.push([name, ...labels.map((l) => fmt(value(l, get))), ...pairs.map(([o, r]) => ratio(value(o, get), value(r, get)))]);
  }
  for (const l of labels) if (results[l].error) rows.push([`${l} failed`, results[l].error]);
  const widths = header.map((_, i) => Math.max(...rows.filter((r) => r.length > 2).map((r) => (r[i] ?? "").length)));
  const line = (r) => r.length === 2 && r[0].endsWith("failed") ? `${r[0]}: ${r[1]}` : r.map((c, i) => (i === 0 ? (c ?? "").padEnd(widths[i]) : (c ?? "").padStart(widths[i]))).join("  ");
  return [`\n== ${title}`, ...rows.map(line)].join("\n");
}
