// Runs `wrangler dev` on a snapshot of the Worker's source, so that edits others make to the tree
// during a run neither reload nor break it, and so that the harness can reload the objects
// (by touching the snapshot) or kill the whole process group and restart it on the same storage.
import { spawn } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "./random.mjs";

export class DevServer {
  /**
   * @param {object} o
   * @param {string} o.root       the repository (or a scratch copy of it) whose worker/ and protocol/ run
   * @param {string} o.workDir    a fresh temporary directory owned by this run
   * @param {number} o.port       wrangler dev's port
   * @param {number} o.inspectorPort
   * @param {Record<string,string>} o.vars  extra --var values
   */
  constructor({ root, workDir, port, inspectorPort, vars }) {
    Object.assign(this, { root, workDir, port, inspectorPort, vars });
    this.src = join(workDir, "src");
    this.persistTo = join(workDir, "state");
    this.logFile = join(workDir, "wrangler.log");
    this.child = null;
    this.exited = null;
    this.reloads = 0;
  }

  /** Copies the source and assets into the work directory and writes its wrangler.toml. */
  prepare() {
    mkdirSync(this.src, { recursive: true });
    mkdirSync(this.persistTo, { recursive: true });
    for (const dir of ["worker", "protocol"]) cpSync(join(this.root, dir), join(this.src, dir), { recursive: true });
    symlinkSync(join(this.root, "node_modules"), join(this.src, "node_modules"), "dir");
    if (existsSync(join(this.root, "tsconfig.json"))) cpSync(join(this.root, "tsconfig.json"), join(this.src, "tsconfig.json"));
    // The built app if there is one, else the public files (index.html and _headers) on their own.
    const built = join(this.root, "web", "dist");
    const assets = join(this.src, "assets");
    cpSync(existsSync(join(built, "index.html")) ? built : join(this.root, "web", "public"), assets, { recursive: true });
    const config = readFileSync(join(this.root, "wrangler.toml"), "utf8").replace(/^directory = .*$/m, `directory = "assets"`);
    writeFileSync(join(this.src, "wrangler.toml"), config);
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  start() {
    const bin = join(this.root, "node_modules", "wrangler", "bin", "wrangler.js");
    const args = [
      bin, "dev", "-c", join(this.src, "wrangler.toml"),
      "--ip", "127.0.0.1", "--port", String(this.port), "--inspector-port", String(this.inspectorPort),
      "--persist-to", this.persistTo, "--show-interactive-dev-session=false", "--live-reload=false",
    ];
    for (const [k, v] of Object.entries(this.vars)) args.push("--var", `${k}:${v}`);
    appendFileSync(this.logFile, `\n==== start ${new Date().toISOString()}\n`);
    // Its own process group: killing the group takes workerd down with wrangler.
    const child = spawn(process.execPath, args, {
      cwd: this.src,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1" },
    });
    const log = (chunk) => appendFileSync(this.logFile, chunk);
    child.stdout.on("data", log);
    child.stderr.on("data", log);
    this.child = child;
    this.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    return child.pid;
  }

  /** Waits until the Worker answers (an unauthenticated /api/me is 401). */
  async ready(timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child && this.child.exitCode !== null) throw new Error(`wrangler dev exited; see ${this.logFile}`);
      try {
        const res = await fetch(`${this.url}/api/me`, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.status === 401) return;
      } catch {
        // not up yet
      }
      await sleep(250);
    }
    throw new Error(`wrangler dev did not come up within ${timeoutMs} ms; see ${this.logFile}`);
  }

  /** SIGKILL to wrangler's process group (wrangler and its workerd), by the pid we started. */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
    await this.exited;
    this.child = null;
  }

  async restart(pauseMs = 0) {
    await this.kill();
    await sleep(pauseMs);
    this.start();
    await this.ready();
  }

  /**
   * A code reload: wrangler rebuilds and restarts the runtime in the same process, which resets
   * every object (like a deploy), closing their sockets.
   */
  async reload() {
    this.reloads++;
    appendFileSync(join(this.src, "worker", "index.ts"), `\n// fault run: reload ${this.reloads}\n`);
    // The rebuild takes a moment to begin; wait for it to start failing or answering again.
    await sleep(1500);
    await this.ready();
  }

  async stop() {
    await this.kill();
  }
}
