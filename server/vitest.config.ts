import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/support/postgres-cluster.ts"],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    // Two cores: each test file gets its own databases, but fewer workers start faster.
    maxWorkers: 2,
  },
});
