/**
 * Starts `wrangler dev` for the browser tests on 127.0.0.1, on the first free port of 8790-8799,
 * with a fresh temporary --persist-to, and stops it by its process id (its own process group).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PORTS = [8790, 8791, 8792, 8793, 8794, 8795, 8796, 8797, 8798, 8799];

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

export interface DevServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startDev(root: string, extraArgs: string[] = []): Promise<DevServer> {
  let port = 0;
  for (const p of PORTS) if (await free(p)) { port = p; break; }
  if (!port) throw new Error("no free port in 8790-8799");
  const persist = mkdtempSync(join(tmpdir(), "edge-chat-browser-"));
  const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
  const child: ChildProcess = spawn(
    process.execPath,
    [wrangler, "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist, "--show-interactive-dev-session=false", ...extraArgs],
    { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" }, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout?.on("data", (d: Buffer) => { log += d.toString(); });
  child.stderr?.on("data", (d: Buffer) => { log += d.toString(); });
  const url = `http://127.0.0.1:${port}`;
  const pid = child.pid;
  if (pid === undefined) throw new Error("wrangler dev did not start");

  const stop = async () => {
    if (child.exitCode === null) {
      try { process.kill(-pid, "SIGTERM"); } catch { /* gone */ }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { try { process.kill(-pid, "SIGKILL"); } catch { /* gone */ } resolve(); }, 5000);
        child.once("exit", () => { clearTimeout(timer); resolve(); });
      });
    }
    rmSync(persist, { recursive: true, force: true });
  };

  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${log}`);
    try {
      const res = await fetch(`${url}/api/me`);
      if (res.status === 401) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not come up:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { url, pid, stop };
}
