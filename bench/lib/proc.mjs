// Reading other processes through /proc (Linux): CPU time, resident memory, children, and the
// loopback ports a process listens on (to find the workerd behind `wrangler dev`).
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, or 0 once it is gone. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
  } catch {
    return 0;
  }
}

/**
 * Bytes a process has caused to be written to storage so far (`write_bytes` of /proc/<pid>/io:
 * what reaches the block layer, the WAL and its checkpoints for SQLite), or null when unreadable.
 */
export function diskWriteBytes(pid) {
  try {
    const m = /^write_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The Durable Objects a workerd holds in memory now: the SQLite files it has open under its
 * state's `do/` directory (one per object awake; each namespace's `metadata.sqlite` left out).
 * Empty when unreadable.
 */
export function openObjectFiles(pid) {
  const open = new Set();
  let fds = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return open;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.includes("/do/") && target.endsWith(".sqlite") && !target.endsWith("/metadata.sqlite")) open.add(target);
    } catch {
      // closed meanwhile
    }
  }
  return open;
}

/**
 * Watches which objects a workerd puts out of memory (their SQLite files closed) until stopped,
 * looking every `everyMs`. `wrangler dev` closes an object's database some seconds after its
 * last event, and closing checkpoints its WAL into the database file on the one thread all
 * objects share: a window that many closes fall in pays for them in its latencies.
 */
export function objectCloseMeter(pid, everyMs = 100) {
  const watch = objectWatch(pid);
  const timer = setInterval(() => watch.look(), everyMs);
  return {
    stop() {
      clearInterval(timer);
      watch.look();
      return { atStart: watch.atStart, closed: watch.closed, closedBy: watch.closedBy, opened: watch.opened, openedBy: watch.openedBy };
    },
  };
}

/** The class an object's SQLite file belongs to (its namespace's directory, the Worker's name left out). */
function objectClass(file) {
  const dir = file.split("/do/")[1]?.split("/")[0] ?? "?";
  return dir.slice(dir.lastIndexOf("-") + 1);
}

/**
 * The objects a workerd holds, looked at again on each `look()`: counts those closed and those
 * opened since the first look (in all and by class: which objects a wait or a window saw come and
 * go is what tells their cause apart, as the nineteenth session in BENCHMARKS.md found), and says
 * whether anything opened or closed since the last.
 */
export function objectWatch(pid) {
  let before = openObjectFiles(pid);
  const watch = {
    atStart: before.size,
    closed: 0,
    closedBy: {},
    opened: 0,
    openedBy: {},
    look() {
      const now = openObjectFiles(pid);
      // Files in `from` and not in `to`, counted in all (`field`) and by class (`field` + "By").
      const gone = (from, to, field) => {
        let n = 0;
        for (const f of from) {
          if (to.has(f)) continue;
          const kind = objectClass(f);
          watch[`${field}By`][kind] = (watch[`${field}By`][kind] ?? 0) + 1;
          n++;
        }
        watch[field] += n;
        return n;
      };
      const changed = gone(before, now, "closed") + gone(now, before, "opened") > 0;
      before = now;
      return changed;
    },
  };
  return watch;
}

/** Resident set size in bytes, or 0 once the process is gone. */
export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** Every descendant of `root`, depth first. */
export function descendants(root) {
  const children = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  const out = [];
  const walk = (pid) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

/** TCP ports in LISTEN state on 127.0.0.1 owned by `pid` (sockets found through /proc/pid/fd). */
export function listeningPorts(pid) {
  const inodes = new Set();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports = [];
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10 || cols[3] !== "0A") continue; // 0A: LISTEN
    const [addr, port] = cols[1].split(":");
    if (addr === "0100007F" && inodes.has(cols[9])) ports.push(parseInt(port, 16));
  }
  return ports;
}

/** Sums CPU seconds over a set of pids: call once to start, then `.stop()` for cores used. */
export function cpuMeter(pids) {
  const t0 = performance.now();
  const c0 = pids.map(cpuSeconds);
  return {
    stop() {
      const wall = (performance.now() - t0) / 1000;
      const used = pids.map((p, i) => cpuSeconds(p) - c0[i]);
      const total = used.reduce((a, b) => a + b, 0);
      return { seconds: total, cores: wall > 0 ? total / wall : 0, wall, used };
    },
  };
}
