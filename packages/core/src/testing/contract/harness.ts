import { parseConfig } from "../../config/load.js";
import { InvalidConfigError } from "../../errors.js";
import { buildServices } from "../../provider-services.js";
import type { ContractHarness, ContractToggles, ProviderContractOptions, ServiceKind } from "./types.js";

/** The kinds the suite checks, in the order a cluster builds them. */
export const CONTRACT_KINDS = [
  "network",
  "secretStore",
  "nodes",
  "datastore",
  "loadBalancer",
  "dns",
] as const;

/** The toggles as the suite runs them: each from the provider's capabilities unless given. */
export type ResolvedToggles = Required<ContractToggles>;

/**
 * Every toggle's default from the provider's capabilities (unstorage's `testDriver({ driver })` reads its
 * flags off the driver the same way); an explicit toggle overrides.
 */
export function resolveToggles(o: ProviderContractOptions): ResolvedToggles {
  const caps = o.provider.capabilities;
  const offers = (kind: ServiceKind) => caps.services.includes(kind);
  const l7 =
    offers("loadBalancer") &&
    (caps.loadBalancerModes ?? []).includes("l7") &&
    (o.certificate !== undefined || caps.l7NeedsCertificate === false);
  // An alias points at the provider's own load balancer: the suite can only make one when it offers one.
  const dnsRecordTypes = (caps.dnsRecordTypes ?? ["A"]).filter(
    (t) => t !== "ALIAS" || offers("loadBalancer"),
  );
  return {
    network: offers("network"),
    secretStore: offers("secretStore"),
    nodes: offers("nodes"),
    datastore: offers("datastore"),
    loadBalancer: offers("loadBalancer"),
    dns: offers("dns"),
    l7,
    publish: true,
    repairsDrift: true,
    dnsRecordTypes,
    ...Object.fromEntries(Object.entries(o.toggles ?? {}).filter(([, v]) => v !== undefined)),
  };
}

/**
 * A fresh set of the provider's services for the suite's cluster, built as core builds them for a command
 * (`services(ctx)`, or a contract-1 `register` into a new container), with the back doors beside them.
 */
export async function buildHarness(
  o: ProviderContractOptions,
  t: ResolvedToggles,
  cluster: string,
): Promise<ContractHarness> {
  const { provider } = o;
  const env = typeof o.env === "function" ? await o.env() : (o.env ?? {});
  const zone = o.dns?.zone ?? "example.com";
  const raw = o.options ?? {};
  const parsed = parseConfig({
    name: cluster,
    provider: provider.name,
    region: o.region,
    zones: [...o.zones],
    dns: { zone },
    rancher: { hostname: `rancher.${cluster}.${zone}` },
    options: { [provider.name]: raw },
  });
  if (parsed.issues.length > 0) throw new InvalidConfigError(parsed.issues);
  let options: unknown = raw;
  if (provider.parseOptions) {
    const result = provider.parseOptions(raw);
    if (!result.ok)
      throw new InvalidConfigError(
        result.issues.map((i) => ({
          path: `options.${provider.name}${i.path ? `.${i.path}` : ""}`,
          message: i.message,
        })),
      );
    options = result.value;
  }
  const roles = CONTRACT_KINDS.filter((kind) => t[kind]);
  const { services } = buildServices(provider, {
    config: parsed.config,
    options,
    roles,
    baseDir: process.cwd(),
    env,
  });
  return {
    services,
    owned: o.owned.bind(o),
    ...(o.status && { status: o.status.bind(o) }),
    ...(o.record && { record: o.record.bind(o) }),
    ...(o.targets && { targets: o.targets.bind(o) }),
    ...(o.published && { published: o.published.bind(o) }),
    ...(o.drift && { drift: o.drift }),
  };
}
