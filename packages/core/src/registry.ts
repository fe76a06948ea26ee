import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidConfigError } from "./errors.js";
import type { CloudProvider } from "./provider.js";

/** Loads a provider module; the module exports the descriptor as `default` or as `provider`. */
export type ProviderLoader = () => Promise<unknown>;

/** Built-in provider names and the packages that hold them. Core never imports these packages itself. */
export const builtinProviders: Readonly<Record<string, string>> = {
  aws: "@k3sinfra/provider-aws",
  gcp: "@k3sinfra/provider-gcp",
  azure: "@k3sinfra/provider-azure",
  cloudflare: "@k3sinfra/provider-cloudflare",
};

/** DNS service names users know, mapped to the provider that serves them. */
export const providerAliases: Readonly<Record<string, string>> = {
  route53: "aws",
  clouddns: "gcp",
  azuredns: "azure",
};

const isDescriptor = (v: unknown): v is CloudProvider =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as CloudProvider).name === "string" &&
  typeof (v as CloudProvider).register === "function" &&
  typeof (v as CloudProvider).capabilities === "object";

const pick = (mod: unknown): CloudProvider | undefined => {
  if (isDescriptor(mod)) return mod;
  const m = mod as Record<string, unknown> | null;
  if (m === null || typeof m !== "object") return undefined;
  for (const key of ["default", "provider"]) if (isDescriptor(m[key])) return m[key];
  return undefined;
};

/**
 * Name → provider. Built-ins are imported lazily, on first use, through loaders the host application
 * supplies (the CLI passes `() => import("@k3sinfra/provider-aws")`), so that core depends on no provider
 * and `--help` loads none. A name that is a path or a package specifier is imported as a custom provider.
 */
export class ProviderRegistry {
  readonly #loaders = new Map<string, ProviderLoader>();
  readonly #loaded = new Map<string, CloudProvider>();

  constructor(loaders: Readonly<Record<string, ProviderLoader>> = {}) {
    for (const [name, load] of Object.entries(loaders)) this.#loaders.set(name, load);
  }

  /** Adds a provider object, or a loader for one, under its name. */
  register(provider: CloudProvider | { name: string; load: ProviderLoader }): this {
    if ("load" in provider) this.#loaders.set(provider.name, provider.load);
    else this.#loaded.set(provider.name, provider);
    return this;
  }

  /** Names that can be resolved without a module specifier. */
  names(): string[] {
    return [...new Set([...this.#loaded.keys(), ...this.#loaders.keys()])].sort();
  }

  /**
   * Resolves a config's provider reference: a registered name, an alias (`route53`), a relative or absolute
   * path (resolved from `baseDir`), or a package name.
   * @param path the config path, named in errors.
   */
  async resolve(ref: string, baseDir: string, path = "provider"): Promise<CloudProvider> {
    const name = providerAliases[ref] ?? ref;
    const cached = this.#loaded.get(name);
    if (cached) return cached;
    const loader = this.#loaders.get(name);
    const specifier =
      ref.startsWith(".") || isAbsolute(ref) ? pathToFileURL(resolve(baseDir, ref)).href : ref;
    let mod: unknown;
    try {
      mod = loader ? await loader() : await import(specifier);
    } catch (error) {
      const known = this.names().join(", ") || "none";
      const hint = builtinProviders[name]
        ? `install ${builtinProviders[name]} (npm install ${builtinProviders[name]})`
        : `use one of: ${known}, or a module that exports a provider descriptor`;
      throw new InvalidConfigError([{ path, message: `cannot load provider '${ref}': ${hint}` }], {
        cause: error,
      });
    }
    const provider = pick(mod);
    if (!provider) {
      throw new InvalidConfigError([
        {
          path,
          message: `'${ref}' does not export a provider descriptor (default export or 'provider' with name, capabilities, register)`,
        },
      ]);
    }
    this.#loaded.set(name, provider);
    return provider;
  }
}
