import { defineConfig } from "vitest/config";

// One run for every package. The `@k3sinfra/source` condition makes workspace packages resolve to
// their TypeScript sources, so tests never depend on a prior build.
export default defineConfig({
  resolve: { conditions: ["@k3sinfra/source"] },
  ssr: { resolve: { conditions: ["@k3sinfra/source"], externalConditions: ["@k3sinfra/source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    setupFiles: ["reflect-metadata"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
