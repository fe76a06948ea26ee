import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The emulator's own test run (the root config also works once its setup files resolve):
//   npx -y pnpm@10 vitest run --config packages/emulator/vitest.config.ts
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  resolve: { conditions: ["@k3sinfra/source"] },
  test: { include: ["test/**/*.test.ts"], testTimeout: 30_000, hookTimeout: 30_000, pool: "forks" },
});
