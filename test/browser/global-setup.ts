/** Builds the web app and starts one `wrangler dev` for all browser test files. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startDev, type DevServer } from "./server";

let server: DevServer | null = null;

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

export async function setup(project: TestProject): Promise<void> {
  const root = join(import.meta.dirname, "..", "..");
  execFileSync(process.execPath, [join(root, "web", "build.mjs")], { cwd: root, stdio: "inherit" });
  // Generous send limits, so that a test can seed a long history quickly.
  server = await startDev(root, ["--var", "LIMIT_SENDS_PER_SECOND:100000", "--var", "LIMIT_SEND_BURST:100000", "--var", "PUSH_ALLOW_LOOPBACK:1"]);
  project.provide("baseUrl", server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = null;
}
