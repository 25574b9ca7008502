// Browser tests: headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core against a
// `wrangler dev` that the global setup starts on 127.0.0.1 with a fresh --persist-to.
// Run: npx vitest run --config test/browser/vitest.config.ts
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "browser",
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/browser/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // A poll waits for what a person would see. After a reload that is a server round trip and the
    // app's start, which on a busy shared machine can take over vitest's default second; the bound
    // is there to end a wait that would never succeed, not to time anything.
    expect: { poll: { timeout: 10_000 } },
  },
});
