import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Background work of the objects (presence and notification rounds, which by design outlive
    // the request that started them) can still be loading a module when a test file's runtime is
    // torn down; the pool reports that as an unhandled EnvironmentTeardownError. It says nothing
    // about the code under test, so only that one error is ignored.
    onUnhandledError(error) {
      if (error.name === "EnvironmentTeardownError" && /Closing rpc while/.test(error.message)) return false;
    },
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
                // Every test request comes from one address; the per-address test uses its own.
                LIMIT_SIGNUPS_PER_ADDRESS: "100000",
                LIMIT_LOGIN_FAILURES_PER_ADDRESS: "100000",
                // The push tests' stand-in push service listens on http://127.0.0.1 (push-*.test.ts).
                PUSH_ALLOW_LOOPBACK: "1",
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/worker/**/*.test.ts", "test/unit/**/*.test.ts"],
          testTimeout: 30_000,
          // A stand-in push service on 127.0.0.1 for push-*.test.ts (its URL: inject("pushService")).
          globalSetup: ["test/worker/push-service.global.ts"],
        },
      },
      {
        // Things that need Node: the web client's models, the load generator's pieces.
        test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" },
      },
    ],
  },
});
