import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { InvalidConfigError } from "./errors.js";
import { resolvePackage, splitSpecifier } from "./module-resolution.js";
import { type CloudProvider, SUPPORTED_CONTRACT_VERSIONS } from "./provider.js";

/** Loads a provider module; the module exports the descriptor as `default` or as `provider`. */
export type ProviderLoader = () => Promise<unknown>;

/** Options of a registry. */
export interface ProviderRegistryOptions {
  /**
   * Directories to resolve provider package names from after the config's directory and the working
   * directory, in order: the CLI passes its own install, so a provider installed beside it is found.
   */
  readonly searchDirs?: readonly string[];
  /**
   * Provider names the host application knows, mapped to the package that holds each (the CLI's table of
   * built-in providers). A config naming one loads that package; a name whose package is not installed
   * gets "npm install <package>". Core itself knows no provider names.
   */
  readonly packages?: Readonly<Record<string, string>>;
  /** Other names users know for a provider (a DNS service's name), mapped to the provider's name. */
  readonly aliases?: Readonly<Record<string, string>>;
}

/** Where a module came from, for messages. */
interface Origin {
  readonly label: string;
  readonly file?: string;
}

const looksLikeDescriptor = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as { name?: unknown }).name === "string" &&
  typeof (v as { capabilities?: unknown }).capabilities === "object";

const pick = (mod: unknown): Record<string, unknown> | undefined => {
  if (looksLikeDescriptor(mod)) return mod;
  const m = mod as Record<string, unknown> | null;
  if (m === null || typeof m !== "object") return undefined;
  for (const key of ["default", "provider"]) if (looksLikeDescriptor(m[key])) return m[key];
  return undefined;
};

/**
 * Checks what a module or a spec gave as a provider: a descriptor of a contract version this k3sinfra speaks,
 * with the function that version requires. Throws `InvalidConfigError` on `path` saying what to change.
 */
export function checkDescriptor(value: unknown, where: string, path = "provider"): CloudProvider {
  const fail = (message: string): never => {
    throw new InvalidConfigError([{ path, message }]);
  };
  const d = pick(value);
  if (!d)
    return fail(
      `${where} does not export a provider descriptor (a default export or 'provider' with name, capabilities and services(ctx)); wrap it in defineProvider({ … }) from @k3sinfra/core`,
    );
  const { min, max } = SUPPORTED_CONTRACT_VERSIONS;
  const version = d.contractVersion ?? 1;
  const speaks = `this k3sinfra speaks contract ${min}–${max}`;
  if (typeof version !== "number" || !Number.isInteger(version))
    return fail(
      `provider '${d.name}' (${where}) has contractVersion ${JSON.stringify(version)}; it must be a number`,
    );
  if (version > max)
    return fail(
      `provider '${d.name}' (${where}) was written for contract ${version}; ${speaks}: upgrade k3sinfra, or use a release of the provider written for contract ${max}`,
    );
  if (version < min)
    return fail(
      `provider '${d.name}' (${where}) was written for contract ${version}; ${speaks}: upgrade the provider`,
    );
  if (version >= 2 && typeof d.services !== "function")
    return fail(
      `provider '${d.name}' (${where}) declares contract ${version} but has no services(ctx); return its services from services(ctx)`,
    );
  if (version === 1 && typeof d.register !== "function")
    return fail(
      `provider '${d.name}' (${where}) has neither services(ctx) nor register(container, ctx); add services(ctx) and contractVersion: ${max}`,
    );
  return d as unknown as CloudProvider;
}

/** The error's own words, and the module it came from when the message does not say. */
function describeCause(error: unknown): string {
  const e = error as { message?: unknown; stack?: unknown; name?: unknown } | undefined;
  const message = (typeof e?.message === "string" ? e.message.split("\n")[0] : undefined) ?? String(error);
  const name = typeof e?.name === "string" && e.name !== "Error" ? `${e.name}: ` : "";
  const frame =
    typeof e?.stack === "string" ? /(file:\/\/[^\s):]+|\/[^\s():]+\.[cm]?[jt]s)/.exec(e.stack) : null;
  const file = frame?.[1]?.startsWith("file:") ? fileURLToPath(frame[1]) : frame?.[1];
  return file && !message.includes(file) ? `${name}${message} (in ${file})` : `${name}${message}`;
}

/** What to do about a module that was found but failed while loading. */
function loadHint(error: unknown): string {
  const message = String((error as { message?: unknown })?.message ?? error);
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1];
  if (missing)
    return `its dependency '${missing}' is missing: install it where the provider is installed (npm install ${splitSpecifier(missing)[0]})`;
  if (/reflect[- ]?(polyfill|metadata)|Reflect\.(getMetadata|defineMetadata)/i.test(message))
    return "it uses tsyringe without the reflect-metadata polyfill: return plain services from services(ctx) instead of register(container, ctx), or import 'reflect-metadata' first";
  return "fix the error in that module";
}

const isNotFound = (error: unknown, specifier: string): boolean => {
  const e = error as { code?: unknown; message?: unknown };
  if (e?.code !== "ERR_MODULE_NOT_FOUND" && e?.code !== "MODULE_NOT_FOUND") return false;
  // Only the specifier itself: a missing transitive dependency names another package.
  const named = /Cannot find (?:package|module) '([^']+)'/.exec(String(e.message))?.[1];
  return named === undefined || named === specifier || named === splitSpecifier(specifier)[0];
};

/**
 * Name → provider. Known providers are imported lazily, on first use, through loaders and a table of
 * package names the host application supplies (the CLI passes its built-in providers), so that core
 * depends on no provider and `--help` loads none. A name that is a path or a package specifier is imported
 * as a custom provider; a descriptor object in a spec is used as it is.
 */
export class ProviderRegistry {
  readonly #loaders = new Map<string, ProviderLoader>();
  readonly #loaded = new Map<string, CloudProvider>();
  readonly #checked = new WeakSet<object>();
  readonly #searchDirs: readonly string[];
  readonly #packages: Readonly<Record<string, string>>;
  readonly #aliases: Readonly<Record<string, string>>;

  constructor(loaders: Readonly<Record<string, ProviderLoader>> = {}, options: ProviderRegistryOptions = {}) {
    for (const [name, load] of Object.entries(loaders)) this.#loaders.set(name, load);
    this.#searchDirs = options.searchDirs ?? [];
    this.#packages = options.packages ?? {};
    this.#aliases = options.aliases ?? {};
  }

  /** The provider name a reference stands for: an alias's provider, else the reference itself. */
  nameOf(ref: string): string {
    return Object.hasOwn(this.#aliases, ref) ? (this.#aliases[ref] as string) : ref;
  }

  /** The package the host application named for a provider name, if any. */
  #packageOf(name: string): string | undefined {
    return Object.hasOwn(this.#packages, name) ? this.#packages[name] : undefined;
  }

  /** Adds a provider object, or a loader for one, under its name. */
  register(provider: CloudProvider | { name: string; load: ProviderLoader }): this {
    if ("load" in provider) this.#loaders.set(provider.name, provider.load);
    else this.#loaded.set(provider.name, provider);
    return this;
  }

  /** Names that can be resolved without a module specifier. */
  names(): string[] {
    return [
      ...new Set([...this.#loaded.keys(), ...this.#loaders.keys(), ...Object.keys(this.#packages)]),
    ].sort();
  }

  /**
   * Resolves a config's provider reference: a descriptor object, a registered name, an alias, a
   * relative or absolute path (resolved from `baseDir`), or a package name (resolved from `baseDir`, then
   * the working directory, then the registry's `searchDirs`, then core's own install).
   * @param path the config path, named in errors.
   */
  async resolve(ref: string | CloudProvider, baseDir: string, path = "provider"): Promise<CloudProvider> {
    if (typeof ref !== "string") return this.#check(ref, "the descriptor given in the spec", path);
    const name = this.nameOf(ref);
    const cached = this.#loaded.get(name);
    if (cached) return this.#check(cached, `registered as '${name}'`, path);
    const loader = this.#loaders.get(name);
    const { mod, origin } = loader
      ? await this.#fromLoader(ref, name, loader, path)
      : await this.#fromModule(this.#packageOf(name) ?? ref, ref, baseDir, path);
    const provider = this.#check(mod, origin.file ?? origin.label, path);
    this.#loaded.set(name, provider);
    return provider;
  }

  #check(value: unknown, where: string, path: string): CloudProvider {
    if (typeof value === "object" && value !== null && this.#checked.has(value))
      return value as CloudProvider;
    const provider = checkDescriptor(value, where, path);
    this.#checked.add(provider);
    return provider;
  }

  async #fromLoader(ref: string, name: string, load: ProviderLoader, path: string) {
    const pkg = this.#packageOf(name);
    try {
      const origin: Origin = { label: pkg ?? `the loader registered for '${name}'` };
      return { mod: await load(), origin };
    } catch (error) {
      if (pkg && isNotFound(error, pkg))
        throw this.#notFound(ref, path, `${pkg} is not installed: npm install ${pkg}`, error);
      throw this.#threw(ref, pkg ?? `the loader registered for '${name}'`, path, error);
    }
  }

  async #fromModule(specifier: string, ref: string, baseDir: string, path: string) {
    if (specifier.startsWith(".") || isAbsolute(specifier) || specifier.startsWith("file:")) {
      const file = specifier.startsWith("file:") ? fileURLToPath(specifier) : resolve(baseDir, specifier);
      if (!existsSync(file))
        throw this.#notFound(
          ref,
          path,
          `${file} does not exist (relative paths resolve from the config's directory, ${baseDir})`,
        );
      return this.#import(pathToFileURL(file).href, ref, { label: file, file }, path);
    }
    const starts: [string, string][] = [
      ["the config's directory", baseDir],
      ["the working directory", process.cwd()],
      ...this.#searchDirs.map((d): [string, string] => ["k3sinfra's install", d]),
    ];
    const tried: string[] = [];
    for (const [label, dir] of starts) {
      const found = resolvePackage(specifier, dir);
      tried.push(`${label} (${dir})`);
      if (!found) continue;
      if (!found.file)
        throw this.#notFound(
          ref,
          path,
          `${found.packageDir} exports nothing for import() at '${splitSpecifier(specifier)[1]}' (check its package.json "exports")`,
        );
      return this.#import(pathToFileURL(found.file).href, ref, { label: found.file, file: found.file }, path);
    }
    // Last, core's own install: a library user's application usually has the provider beside core.
    tried.push("@k3sinfra/core's install");
    try {
      const origin: Origin = { label: specifier };
      return { mod: await import(specifier), origin };
    } catch (error) {
      if (!isNotFound(error, specifier)) throw this.#threw(ref, specifier, path, error);
      const known = this.names().join(", ") || "none registered";
      throw this.#notFound(
        ref,
        path,
        `no package '${splitSpecifier(specifier)[0]}' found from ${tried.join(", ")}; install it in the config's project (npm install ${splitSpecifier(specifier)[0]}), or use a path such as ./my-provider.js or one of: ${known}`,
        error,
      );
    }
  }

  async #import(url: string, ref: string, origin: Origin, path: string) {
    try {
      return { mod: await import(url), origin };
    } catch (error) {
      throw this.#threw(ref, origin.label, path, error);
    }
  }

  #notFound(ref: string, path: string, why: string, cause?: unknown): InvalidConfigError {
    return new InvalidConfigError([{ path, message: `cannot load provider '${ref}': ${why}` }], { cause });
  }

  #threw(ref: string, where: string, path: string, error: unknown): InvalidConfigError {
    return new InvalidConfigError(
      [
        {
          path,
          message: `provider '${ref}' was found (${where}) but failed while loading: ${describeCause(error)}; ${loadHint(error)}`,
        },
      ],
      { cause: error },
    );
  }
}
