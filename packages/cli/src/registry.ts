import { fileURLToPath } from "node:url";
import { ProviderRegistry } from "@k3sinfra/core";
import { distDir } from "./dist-dir.js";

/**
 * The one table of built-in providers: each name a config can use without a module specifier, and the
 * package that holds it. Core knows none of these names; it takes this table from here. A name whose
 * package is not installed gets core's hint to install it (gcp and azure until their packages ship).
 */
export const builtinProviders: Readonly<Record<string, string>> = {
  aws: "@k3sinfra/provider-aws",
  gcp: "@k3sinfra/provider-gcp",
  azure: "@k3sinfra/provider-azure",
  cloudflare: "@k3sinfra/provider-cloudflare",
  hosts: "@k3sinfra/provider-hosts",
};

/** DNS service names users know, mapped to the built-in provider that serves them. */
export const providerAliases: Readonly<Record<string, string>> = {
  route53: "aws",
  clouddns: "gcp",
  azuredns: "azure",
  // `dns.provider: manual`: the hosts provider's DNS service, which prints the record to create.
  manual: "hosts",
};

/**
 * The registry the CLI resolves providers with. The providers this CLI depends on are imported only when a
 * config names them, so `--help`, `init` and `schema` load no provider and no cloud SDK. A provider package
 * a config names is looked up from the config's directory, the working directory, then this CLI's own
 * install, so a globally installed CLI finds one installed in the project, and the reverse.
 */
export const createRegistry = (): ProviderRegistry =>
  new ProviderRegistry(
    {
      aws: () => import("@k3sinfra/provider-aws"),
      azure: () => import("@k3sinfra/provider-azure"),
      cloudflare: () => import("@k3sinfra/provider-cloudflare"),
      gcp: () => import("@k3sinfra/provider-gcp"),
      hosts: () => import("@k3sinfra/provider-hosts"),
      // The testing entry exports the in-memory cloud as `memoryProvider`, not as default.
      memory: async () => {
        const testing: Record<string, unknown> = await import("@k3sinfra/core/testing");
        return testing.memoryProvider ?? testing;
      },
    },
    {
      searchDirs: [fileURLToPath(new URL("..", distDir(import.meta.url)))],
      packages: builtinProviders,
      aliases: providerAliases,
    },
  );
