import { defineConfig } from "vitest/config";

// Three suites: pure unit tests with the use cases over in-memory fakes (test/app), integration tests that drive
// the built CLI against servers on 127.0.0.1 (in-process LDAPS directory, iLobby emulator, Secret Service), and
// the Samba AD DC suite. The last two rebuild dist/cli.cjs first (test/support/build-cli.ts): never a stale bundle.
export default defineConfig({
  test: {
    // The JSON report lets .ci/run print one "N passed, N failed" line for the CI log.
    reporters: ["default", ["json", { outputFile: ".testbed/vitest-report.json" }]],
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts", "test/app/**/*.test.ts"] } },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/build-cli.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "ad",
          include: ["test/ad/**/*.test.ts"],
          globalSetup: ["test/support/build-cli.ts", "test/ad/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
