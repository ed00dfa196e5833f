import { defineConfig } from "vitest/config";

// Tests run on the TypeScript sources: every package exports them under the "@cnbp/source" condition.
const resolve = { conditions: ["@cnbp/source", "import", "node", "default"] };

export default defineConfig({
  resolve,
  ssr: { resolve: { conditions: resolve.conditions, externalConditions: ["@cnbp/source"] } },
  test: {
    projects: [
      {
        extends: true,
        // some unit tests talk to the local registry or start a container: the machines are shared and noisy
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/test-utils/global-setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // engines and stacks are shared by every e2e file: keep the machine's two cores for one file at a time
          fileParallelism: false,
        },
      },
    ],
  },
});
