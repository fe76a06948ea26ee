import { resolveK3sVersion } from "../bootstrap/versions.js";
import type { ServiceKind } from "../capabilities.js";
import { type ConfigIssue, InvalidConfigError } from "../errors.js";
import type { CloudProvider } from "../provider.js";
import { providerContractChecks } from "../provider-services.js";
import type { ProviderRegistry } from "../registry.js";
import { isMoot, restsOn } from "./load.js";
import { derivedNameIssues } from "./names.js";
import { riskyChoices } from "./risky.js";
import type { ClusterConfig } from "./schema.js";

/** A provider chosen by the config, with its parsed options and the roles it plays. */
export interface BoundProvider {
  readonly provider: CloudProvider;
  readonly options: unknown;
  readonly roles: readonly ServiceKind[];
}

/** A config checked against its providers' capabilities, with zones filled in. */
export interface ResolvedConfig {
  readonly config: ClusterConfig;
  /** The provider of network, nodes, datastore and load balancer. */
  readonly compute: BoundProvider;
  /** The DNS provider: the compute provider itself, or another one. */
  readonly dns: BoundProvider;
  /** Every distinct provider, compute first. */
  readonly providers: readonly BoundProvider[];
  readonly warnings: readonly string[];
  /** The risky choices among the warnings (world-open admin ranges, deletion protection off…), with paths. */
  readonly risks: readonly ConfigIssue[];
  /** Where relative paths in the config resolve from (the config file's directory). */
  readonly baseDir: string;
  /** The K3s release to install, inside the Rancher version's Kubernetes range. */
  readonly k3sVersion: string;
}

/** How `resolveConfig` treats what it finds. */
export interface ResolveOptions {
  /** Risky choices are errors, not warnings (`--strict`). */
  readonly strict?: boolean;
  /** The date end-of-support notices are measured from. Default: now. */
  readonly now?: Date;
}

/** The name a provider reference resolves to, for comparing compute and DNS providers. */
const refName = (ref: string | CloudProvider, registry: ProviderRegistry): string =>
  typeof ref === "string" ? registry.nameOf(ref) : ref.name;

const COMPUTE_ROLES: readonly ServiceKind[] = ["network", "nodes", "datastore", "loadBalancer"];

function bindOptions(provider: CloudProvider, config: ClusterConfig, issues: ConfigIssue[]): unknown {
  const raw = config.options[provider.name] ?? {};
  if (!provider.parseOptions) return raw;
  const result = provider.parseOptions(raw);
  if (result.ok) return result.value;
  for (const i of result.issues)
    issues.push({ path: `options.${provider.name}${i.path ? `.${i.path}` : ""}`, message: i.message });
  return raw;
}

/**
 * Step 3 of 3 (`readConfig` → `parseConfig` → resolve): loads the providers a config names, checks the config
 * against what they can do and returns it bound to them. Runs before any cloud
 * call, so a capability mismatch (L7 where there is none, an unknown zone) is a config error at plan time.
 */
export async function resolveConfig(
  config: ClusterConfig,
  registry: ProviderRegistry,
  baseDir: string,
  /**
   * Issues already found (schema and cross-field rules), reported together with the provider checks'. What
   * the later checks say about a path that is already reported (or that rests on one) is dropped.
   */
  earlier: readonly ConfigIssue[] = [],
  options: ResolveOptions = {},
): Promise<ResolvedConfig> {
  const issues: ConfigIssue[] = [...earlier];
  const broken = earlier.map((i) => i.path);
  // Later checks report only what no earlier issue explains; one message per path.
  const report = (i: ConfigIssue) => {
    if (!isMoot(i.path, broken) && !issues.some((x) => x.path === i.path && x.message === i.message))
      issues.push(i);
  };
  const warnings: string[] = [];
  // No provider to load: what the schema found is all there is to say.
  if (broken.includes("provider")) throw new InvalidConfigError(issues);
  // A provider that cannot load ends the checks; report it with what was found before.
  const load = (ref: string | CloudProvider, path: string) =>
    registry.resolve(ref, baseDir, path).catch((error: unknown) => {
      throw error instanceof InvalidConfigError
        ? new InvalidConfigError([...issues, ...error.issues], { cause: error.cause })
        : error;
    });
  const computeProvider = await load(config.provider, "provider");
  const dnsRef = (broken.includes("dns.provider") ? undefined : config.dns.provider) ?? config.provider;
  const sameDns = refName(dnsRef, registry) === computeProvider.name || dnsRef === config.provider;
  const dnsProvider = sameDns ? computeProvider : await load(dnsRef, "dns.provider");

  const caps = computeProvider.capabilities;
  for (const role of COMPUTE_ROLES) {
    if (!caps.services.includes(role)) {
      report({
        path: "provider",
        message: `'${computeProvider.name}' does not provide ${role}; choose a compute provider that does (its capabilities.services lists ${role})`,
      });
    }
  }
  if (!dnsProvider.capabilities.services.includes("dns")) {
    report({
      path: sameDns ? "dns.provider" : "dns.provider",
      message: `'${dnsProvider.name}' does not provide DNS; set dns.provider to one that does (its capabilities.services lists dns)`,
    });
  }
  const mode = config.loadBalancer.mode;
  if (!(caps.loadBalancerModes ?? []).includes(mode)) {
    report({
      path: "loadBalancer.mode",
      message: `'${computeProvider.name}' has no ${mode.toUpperCase()} load balancer (it offers: ${(caps.loadBalancerModes ?? []).join(", ") || "none"})`,
    });
  }
  if (mode === "l7" && caps.l7NeedsCertificate && !config.loadBalancer.certificate) {
    report({
      path: "loadBalancer.certificate",
      message: `is required for l7 on ${computeProvider.name}: give the certificate the load balancer presents for ${config.rancher.hostname}`,
    });
  }
  const engines = caps.datastoreEngines ?? [];
  const engine = engines.find((e) => e.engine === config.datastore.engine);
  if (!engine) {
    report({
      path: "datastore.engine",
      message: `'${computeProvider.name}' offers no ${config.datastore.engine} datastore`,
    });
  } else if (!engine.versions.includes(config.datastore.version)) {
    report({
      path: "datastore.version",
      message: `'${computeProvider.name}' offers ${config.datastore.engine} ${engine.versions.join(", ")}, not ${config.datastore.version}`,
    });
  }
  if (caps.datastoreCheck === "provider" && config.datastore.check === "required") {
    report({
      path: "datastore.check",
      message: `cannot be required with ${computeProvider.name}: its datastore service checks the server itself when it creates the database; use auto or off`,
    });
  }
  if (config.dns.proxied && !dnsProvider.capabilities.dnsProxy) {
    report({
      path: "dns.proxied",
      message: `'${dnsProvider.name}' cannot proxy records; remove dns.proxied`,
    });
  }

  const k3s = resolveK3sVersion(config.rancher.version, config.k3s.version, config.datastore.version);
  if (!k3s.ok) k3s.issues.forEach(report);

  let zones = config.zones;
  const known = caps.zones?.[config.region];
  // A region the provider does not list offline may still exist (new regions open every year): with
  // explicit zones it is left to the provider's preflight; without, the zones cannot be defaulted.
  if (caps.zones && !known && config.zones) {
    warnings.push(
      `${computeProvider.name} does not list '${config.region}' offline; its zones are checked when the provider connects.`,
    );
  }
  if (zones && known) {
    zones.forEach((z, i) => {
      if (!known.includes(z))
        report({
          path: `zones[${i}]`,
          message: `'${z}' is not a zone of ${config.region} (${known.join(", ")})`,
        });
    });
  }
  if (!zones) {
    if (known && known.length > 0) zones = known.slice(0, Math.min(2, known.length));
    else
      report({
        path: "zones",
        message: `is required: ${computeProvider.name} does not list zones of '${config.region}' offline; give two zones of ${config.region} (or check the region's spelling)`,
      });
  }
  if (zones && zones.length === 1)
    warnings.push(
      "Only one zone is configured: a zone outage takes Rancher down. Give two or more zones for high availability.",
    );

  // A descriptor object given in a spec is known by its name from here on: the config goes into state.
  const resolved: ClusterConfig = {
    ...config,
    zones: zones ?? [],
    provider: typeof config.provider === "string" ? config.provider : computeProvider.name,
    dns: {
      ...config.dns,
      provider: typeof config.dns.provider === "object" ? dnsProvider.name : config.dns.provider,
    },
  };
  const computeRoles: ServiceKind[] = [
    ...COMPUTE_ROLES,
    ...(sameDns ? (["dns"] as const) : []),
    // Secrets go to the compute provider's store when it has one; otherwise into user data (a warning).
    ...(caps.services.includes("secretStore") ? (["secretStore"] as const) : []),
  ];
  const compute: BoundProvider = {
    provider: computeProvider,
    options: bindOptions(computeProvider, resolved, issues),
    roles: computeRoles,
  };
  const dns: BoundProvider = sameDns
    ? compute
    : { provider: dnsProvider, options: bindOptions(dnsProvider, resolved, issues), roles: ["dns"] };
  for (const bound of sameDns ? [compute] : [compute, dns]) {
    const names = bound.provider.capabilities.names ?? [];
    for (const i of derivedNameIssues(resolved, bound.provider.name, names, bound.roles)) report(i);
    const found = bound.provider.validate?.(resolved, bound.options, bound.roles) ?? [];
    for (const i of found) {
      // One message per path: core's and a provider's checks can both notice the same thing. A finding that
      // rests on another one (zones of a region that is not one) is left out.
      if (found.some((o) => o !== i && restsOn(i.path, o.path))) continue;
      if (!issues.some((x) => x.path === i.path)) report(i);
    }
  }
  for (const bound of sameDns ? [compute] : [compute, dns]) {
    const path = bound === compute ? "provider" : "dns.provider";
    if (issues.some((i) => i.path.startsWith(`options.${bound.provider.name}`))) continue;
    const checked = providerContractChecks(bound, resolved, baseDir, path);
    checked.issues.forEach(report);
    warnings.push(...checked.warnings);
  }
  const risks = riskyChoices(resolved, caps, options.now);
  if (options.strict)
    for (const r of risks) report({ ...r, message: `${r.message} (an error with --strict)` });
  else for (const r of risks) warnings.push(`${r.path}: ${r.message}`);
  if (issues.length > 0) throw new InvalidConfigError(issues);
  return {
    config: resolved,
    compute,
    dns,
    providers: sameDns ? [compute] : [compute, dns],
    warnings,
    risks,
    k3sVersion: k3s.ok ? k3s.version : "",
    baseDir,
  };
}
