import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The browser tests start the real control server and Chromium.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
