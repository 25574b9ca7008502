import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        // Objects, sockets, storage and faults, inside the Workers runtime.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                SESSION_SECRET: "test-secret-0123456789abcdef",
                ALLOWED_ORIGINS: "https://allowed.example",
              },
            },
          }),
        ],
        test: { name: "workers", include: ["test/worker/**/*.test.ts", "test/unit/**/*.test.ts"], testTimeout: 30_000 },
      },
      {
        // Things that need Node: the web client's models, the load generator's pieces.
        test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" },
      },
    ],
  },
});
