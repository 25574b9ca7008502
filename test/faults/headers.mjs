// Security headers as served by `wrangler dev` itself: the static index (web/public/_headers,
// applied by the assets server, which the Workers test pool does not run) and an API response
// (worker/security-headers.ts). Both must carry every header _headers lists, with its value.
//   node test/faults/headers.mjs http://127.0.0.1:8787   (or called by the fault run)
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The headers of one rule (by default `/*`, the one for every page) of a _headers file. */
export function parseHeadersFile(path, rule = "/*") {
  const expected = {};
  let current = null;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      current = line.trim();
      continue;
    }
    const m = /^\s+([A-Za-z-]+):\s*(.+?)\s*$/.exec(line);
    if (m && current === rule) expected[m[1].toLowerCase()] = m[2];
  }
  return expected;
}

export async function checkHeaders(baseUrl, headersFile) {
  const expected = parseHeadersFile(headersFile);
  const problems = [];
  if (!expected["content-security-policy"]) problems.push(`${headersFile} sets no Content-Security-Policy`);
  for (const path of ["/", "/index.html", "/api/me"]) {
    const res = await fetch(`${baseUrl}${path}`, { redirect: "manual" });
    await res.arrayBuffer();
    for (const [name, value] of Object.entries(expected)) {
      const got = res.headers.get(name);
      if (got !== value) problems.push(`${path} (${res.status}): ${name} is ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const base = process.argv[2] ?? "http://127.0.0.1:8787";
  const problems = await checkHeaders(base, fileURLToPath(new URL("../../web/public/_headers", import.meta.url)));
  for (const p of problems) console.log("MISSING", p);
  console.log(problems.length === 0 ? "security headers: all present on /, /index.html and /api/me" : `${problems.length} problems`);
  process.exit(problems.length === 0 ? 0 : 1);
}
