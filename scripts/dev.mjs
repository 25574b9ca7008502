// `npm run dev`: builds the web app, then runs `wrangler dev` on 127.0.0.1:8787 unless the
// arguments after `--` say otherwise (e.g. `npm run dev -- --port 9000 --persist-to /tmp/chat`).
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const has = (flag) => args.some((a) => a === flag || a.startsWith(`${flag}=`));

const built = spawnSync(process.execPath, ["web/build.mjs"], { stdio: "inherit" });
if (built.status !== 0) process.exit(built.status ?? 1);

const wranglerArgs = ["dev", ...(has("--ip") ? [] : ["--ip", "127.0.0.1"]), ...(has("--port") ? [] : ["--port", "8787"]), ...args];
// wrangler starts a node process that starts workerd: run it in a process group of its own and
// signal the whole group, so that stopping this script never leaves a workerd behind.
const wrangler = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const child = spawn(process.execPath, [wrangler, ...wranglerArgs], {
  stdio: "inherit",
  detached: true,
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
const stop = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(signal));
process.on("exit", () => stop("SIGTERM"));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
