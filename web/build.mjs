// Builds the web app into web/dist: the static assets that wrangler serves. The script and the
// style sheet get content hashes in their names (so they can be cached for good), index.html is
// rewritten to point at them, and the gzipped size of everything is printed (the budget: 60 KB).
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

let raw = 0;
let gz = 0;
const lines = [];
for (const f of readdirSync(out)) {
  const p = join(out, f);
  if (!statSync(p).isFile() || f === "_headers") continue;
  const data = readFileSync(p);
  const z = gzipSync(data, { level: 9 }).byteLength;
  raw += data.byteLength;
  gz += z;
  lines.push(`  ${f.padEnd(24)} ${String(data.byteLength).padStart(7)} B  ${String(z).padStart(6)} B gzipped`);
}
console.log(`web/dist:\n${lines.join("\n")}\n  total ${raw} B, ${gz} B gzipped (${(gz / 1024).toFixed(1)} KiB; budget ${BUDGET / 1024} KiB)`);
if (gz > BUDGET && !watch) {
  console.error("web/dist is over the gzipped size budget");
  process.exitCode = 1;
}
