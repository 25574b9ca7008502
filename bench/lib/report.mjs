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
    ["other servers' CPU cores", (r) => r.neighbourCores],
    ["isolate heap at the start, MB", (r) => r.heapBeforeMb],
    ["server CPU us/message", (r) => r.serverCpuUsPerMessage],
    ["disk KB written per message", (r) => r.diskKBPerMessage],
    ["waited for objects after the connect: s / closed", (r) => (r.objectsAfterConnect ? `${r.objectsAfterConnect.seconds} / ${r.objectsAfterConnect.closed}` : null)],
    ["objects awake at the start / put out of memory in the window", (r) => (r.objectsAwakeAtStart === undefined ? null : `${r.objectsAwakeAtStart} / ${r.objectsClosed}`)],
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
  storm: [
    ["sockets / users / rooms", (r) => `${r.sockets} / ${r.users} / ${r.rooms}`],
    ["connect all, 50 at a time, ms", (r) => r.connectMs],
    ["storm: all accepted (last 101) ms", (r) => r.acceptMs],
    ["storm: all synced ms", (r) => r.syncedMs],
    ["storm: upgrade p50 / p99 ms", (r) => `${r.upgradeMs.p50} / ${r.upgradeMs.p99}`],
    ["storm: worker CPU ms until all synced / other servers' CPU cores meanwhile", (r) => (r.workerCpuMsUntilSynced === undefined ? null : `${r.workerCpuMsUntilSynced} / ${r.neighbourCoresUntilSynced}`)],
    ["storm: objects awake at the start / woken until all synced", (r) => (r.objectsUntilSynced ? `${r.objectsUntilSynced.awakeAtStart} / ${r.objectsUntilSynced.opened}` : null)],
    ["one upgrade, objects awake, p50 ms (each by another member)", (r) => r.warmUpgradeMs.p50],
    ["one member's upgrades in a row, objects awake, p50 ms", (r) => r.burstUpgradeMs?.p50],
    ["lost/dup/out-of-order", (r) => `${r.lost}/${r.duplicated}/${r.outOfOrder}`],
    ["presence to a watching inbox: frames per user back (mean / max)", (r) => (r.presence ? `${r.presence.onlineFramesPerUser} / ${r.presence.onlineFramesPerUserMax}` : null)],
    ["contacts seen offline before / online after / all (rooms shared with the watcher)", (r) => (r.presence ? `${r.presence.offlineSeenBefore} / ${r.presence.usersSeenOnline} / ${r.presence.watchedUsers} (${r.presence.sharedRoomsEach})` : null)],
    ["presence frames to the conversation sockets", (r) => r.presence?.framesToConversationSockets],
  ],
  deploy: [
    ["sockets (web app's ReconnectingSocket)", (r) => r.sockets],
    ["closed by the server", (r) => r.closedByServer],
    ["first close after the reload ms", (r) => r.firstCloseMs],
    ["all synced again, from the first close, ms", (r) => r.allSyncedMs],
    ["the new workerd's first upgrade accepted, from the first close, ms", (r) => r.firstOpenMs],
    ["all synced again, from that first upgrade, ms", (r) => r.firstOpenToAllSyncedMs],
    ["synced after the reload p50 / p99 ms", (r) => `${r.syncedAfterReloadMs.p50} / ${r.syncedAfterReloadMs.p99}`],
    ["upgrades started / failed", (r) => `${r.attempts} / ${r.failedAttempts}`],
    ["peak upgrades started per second", (r) => r.peakAttemptsPerSecond],
    ["peak upgrades accepted per second", (r) => r.peakOpensPerSecond],
    ["lost/dup/out-of-order", (r) => `${r.lost}/${r.duplicated}/${r.outOfOrder}`],
    ["error frames / refused for good", (r) => `${r.errors}/${r.refusedForGood}`],
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
  // Ours without assets (a reading of what the asset pipeline costs) against the bare object too.
  if (labels.includes("ours-noassets") && labels.includes("bare")) pairs.push(["ours-noassets", "bare"]);
  const header = ["", ...labels, ...pairs.map(([o, r]) => `${o}/${r}`)];
  const rows = [header];
  const value = (label, get) => (results[label].error ? null : get(results[label]));
  for (const [name, get] of METRICS[kind]) {
    rows.push([name, ...labels.map((l) => fmt(value(l, get))), ...pairs.map(([o, r]) => ratio(value(o, get), value(r, get)))]);
  }
  // A failure is one line of text, outside the columns.
  const failures = labels.filter((l) => results[l].error).map((l) => `${l} failed: ${results[l].error}`);
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r) => r.map((c, i) => (i === 0 ? (c ?? "").padEnd(widths[i]) : (c ?? "").padStart(widths[i]))).join("  ");
  return [`\n== ${title}`, ...rows.map(line), ...failures].join("\n");
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The median of each number across passes, field by field (other values: the first pass's). */
function medianOf(values) {
  const first = values.find((v) => v !== undefined && v !== null);
  // Rounded: the median of an even count is a mean, with float noise in the last digits.
  if (typeof first === "number") return Math.round(median(values.filter((v) => typeof v === "number")) * 1000) / 1000;
  if (first && typeof first === "object" && !Array.isArray(first)) {
    return Object.fromEntries(Object.keys(first).map((k) => [k, medianOf(values.map((v) => v?.[k]))]));
  }
  return first;
}

/**
 * One scenario table per key from the passes of --repeat: each figure the median of the passes
 * that measured it (a failed pass is left out; its error shows when no pass succeeded).
 */
export function aggregate(runs) {
  const out = {};
  for (const key of new Set(runs.flatMap((r) => Object.keys(r)))) {
    const passes = runs.map((r) => r[key]).filter(Boolean);
    const last = passes[passes.length - 1];
    if (last.kind === "profile") {
      out[key] = last;
      continue;
    }
    const by = {};
    for (const label of new Set(passes.flatMap((p) => Object.keys(p.by)))) {
      const good = passes.map((p) => p.by[label]).filter((v) => v && !v.error);
      by[label] = good.length ? medianOf(good) : passes.map((p) => p.by[label]).find(Boolean);
    }
    out[key] = { title: last.title, kind: last.kind, by, ...(passes.every((p) => p.skipped) ? { skipped: last.skipped } : {}) };
  }
  return out;
}
