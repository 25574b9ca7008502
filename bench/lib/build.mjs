// Builds what the bench runs, once per invocation, into a temporary directory:
// - protocol/ as one ES module for the generator (it decodes with the project's own codec);
// - a frozen copy of the Worker with its own wrangler.toml, so that edits others make to worker/
//   during a run cannot make `wrangler dev` reload under load.
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export async function loadProtocol(root, tmp) {
  const outfile = join(tmp, "protocol.mjs");
  await build({ entryPoints: [join(root, "protocol", "index.ts")], bundle: true, format: "esm", platform: "node", outfile, logLevel: "warning" });
  return import(pathToFileURL(outfile).href);
}

/**
 * The web app's reconnecting socket (web/src/lib/socket.ts, with its backoff and jitter from
 * backoff.ts), bundled from its module for Node, which has a global WebSocket like a browser.
 */
export async function loadAppSocket(root, tmp) {
  const outfile = join(tmp, "app-socket.mjs");
  await build({ entryPoints: [join(root, "web", "src", "lib", "socket.ts")], bundle: true, format: "esm", platform: "node", outfile, logLevel: "warning" });
  return import(pathToFileURL(outfile).href);
}

/**
 * A wrangler.toml without its [assets] section (up to the first blank line). `wrangler dev` then
 * hands a request straight to the Worker; with static assets, every request first passes three
 * Workers of its own (an RPC proxy and the asset router's outer and inner entrypoints), each of
 * which holds a relay for a websocket it passes on. What that costs: bench/run.mjs's
 * `ours-noassets` and bench/compare.mjs's `:noassets`.
 */
export function withoutAssets(toml) {
  return toml.replace(/\[assets\]\n(?:[^\n]+\n)*/, "");
}

/**
 * Bundles worker/ into `tmp/name` and writes a wrangler.toml beside it that mirrors the project's
 * (without [assets] when `assets` is false). Returns its path.
 */
export async function freezeWorker(root, tmp, { name = "ours", assets = true } = {}) {
  const dir = join(tmp, name);
  mkdirSync(join(dir, "assets"), { recursive: true });
  await build({
    entryPoints: [join(root, "worker", "index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*"],
    outfile: join(dir, "worker.js"),
    logLevel: "warning",
  });
  const webDist = join(root, "web", "dist");
  if (existsSync(webDist)) cpSync(webDist, join(dir, "assets"), { recursive: true });
  else writeFileSync(join(dir, "assets", "index.html"), "<!doctype html><title>bench</title>");
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8")
    .replace(/^main\s*=.*$/m, 'main = "worker.js"')
    .replace(/^directory\s*=.*$/m, 'directory = "assets"');
  writeFileSync(join(dir, "wrangler.toml"), assets ? toml : withoutAssets(toml));
  return join(dir, "wrangler.toml");
}

/**
 * Bundles bench/bare into the temporary directory with its wrangler.toml, for the same reasons
 * (and so that wrangler's .wrangler/ scratch files stay out of the source tree).
 */
export async function freezeBare(root, tmp) {
  const dir = join(tmp, "bare");
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(root, "bench", "bare", "index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    external: ["cloudflare:*"],
    outfile: join(dir, "index.js"),
    logLevel: "warning",
  });
  const toml = readFileSync(join(root, "bench", "bare", "wrangler.toml"), "utf8").replace(/^main\s*=.*$/m, 'main = "index.js"');
  writeFileSync(join(dir, "wrangler.toml"), toml);
  return join(dir, "wrangler.toml");
}
