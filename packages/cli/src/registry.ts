import { fileURLToPath } from "node:url";
import { ProviderRegistry } from "@k3sinfra/core";

/**
 * The built-in providers, each imported only when a config names it, so `--help`, `init` and `schema` load
 * no provider and no cloud SDK. gcp and azure resolve through core's hint to install their packages. A
 * provider package a config names is looked up from the config's directory, the working directory, then
 * this CLI's own install, so a globally installed CLI finds one installed in the project, and the reverse.
 */
export const createRegistry = (): ProviderRegistry =>
  new ProviderRegistry(
    {
      aws: () => import("@k3sinfra/provider-aws"),
      cloudflare: () => import("@k3sinfra/provider-cloudflare"),
      // The testing entry exports the in-memory cloud as `memoryProvider`, not as default.
      memory: async () => {
        const testing: Record<string, unknown> = await import("@k3sinfra/core/testing");
        return testing.memoryProvider ?? testing;
      },
    },
    { searchDirs: [fileURLToPath(new URL("..", import.meta.url))] },
  );
