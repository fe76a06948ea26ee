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
    // Most test files wait (on child processes, servers, emulated clouds and real MariaDB, sshd and nginx) far
    // more than they compute, so three at a time even on a 2-core machine, where vitest's default (cores - 1)
    // would run them one by one. Every test is written for a loaded machine: none races the wall clock.
    maxWorkers: 3,
  },
});
