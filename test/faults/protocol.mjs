// The harness is plain JavaScript: it bundles the shared protocol/ (TypeScript) once into its
// work directory and imports that, so the load client speaks exactly the Worker's codec.
import { build } from "esbuild";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export async function loadProtocol(root, workDir) {
  const outfile = join(workDir, "protocol.mjs");
  await build({
    entryPoints: [join(root, "protocol", "index.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node22",
    outfile,
    logLevel: "warning",
  });
  return import(pathToFileURL(outfile).href);
}
