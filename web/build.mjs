// Builds the web app into web/dist: the static assets that wrangler serves. The script and the
// style sheet get content hashes in their names (so they can be cached for good), index.html is
// rewritten to point at them, the service worker is built at the stable URL /sw.js with the list of
// the shell's files and a hash of their contents, and the gzipped size of the code (the budget:
// 60 KB) is printed; icons and the manifest are not code and are listed apart, outside the budget.
import { createHash } from "node:crypto";
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist");
const watch = process.argv.includes("--watch");
const BUDGET = 60 * 1024;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(here, "public"), out, { recursive: true });

const result = await build({
  entryPoints: { app: join(here, "src", "main.tsx") },
  bundle: true,
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: out,
  entryNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});

const built = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = built.find((f) => f.endsWith(".js"));
const css = built.find((f) => f.endsWith(".css"));
const indexPath = join(out, "index.html");
writeFileSync(indexPath, readFileSync(indexPath, "utf8").replace("/app.js", `/${js}`).replace("/app.css", `/${css}`));

// The shell the service worker keeps for starting offline: "/" is index.html.
const shell = ["/", `/${js}`, `/${css}`, "/manifest.webmanifest", "/icons/icon.svg", "/icons/icon-192.png"];
const version = createHash("sha256");
for (const u of shell) version.update(readFileSync(join(out, u === "/" ? "index.html" : u.slice(1))));
await build({
  entryPoints: [join(here, "src", "sw", "sw.ts")],
  bundle: true,
  minify: !watch,
  format: "iife",
  target: "es2022",
  outfile: join(out, "sw.js"),
  define: { SHELL: JSON.stringify(shell), VERSION: JSON.stringify(version.digest("hex").slice(0, 16)) },
  legalComments: "none",
  logLevel: "warning",
});

/** Every file under web/dist, with its path from there. */
const files = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)).map((g) => `${f}/${g}`) : [f]));
// Not code: pictures and the manifest, listed apart and not counted in the budget.
const notCode = (f) => f.startsWith("icons/") || f.endsWith(".webmanifest");
const line = (f, data, z) => `  ${f.padEnd(26)} ${String(data.byteLength).padStart(7)} B  ${String(z).padStart(6)} B gzipped`;
let raw = 0;
let gz = 0;
const lines = [];
const apart = [];
for (const f of files(out).filter((f) => f !== "_headers").sort()) {
  const data = readFileSync(join(out, f));
  const z = gzipSync(data, { level: 9 }).byteLength;
  if (notCode(f)) {
    apart.push(line(f, data, z));
    continue;
  }
  raw += data.byteLength;
  gz += z;
  lines.push(line(f, data, z));
}
console.log(`web/dist, code (the budget counts these):\n${lines.join("\n")}\n  total ${raw} B, ${gz} B gzipped (${(gz / 1024).toFixed(1)} KiB; budget ${BUDGET / 1024} KiB)`);
console.log(`web/dist, icons and the manifest (not code, outside the budget):\n${apart.join("\n")}`);
if (gz > BUDGET && !watch) {
  console.error("web/dist is over the gzipped size budget");
  process.exitCode = 1;
}
