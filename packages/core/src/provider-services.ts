import { type DependencyContainer, type InjectionToken, container as rootContainer } from "tsyringe";
import type { ServiceKind } from "./capabilities.js";
import type { BoundProvider } from "./config/resolve.js";
import type { ConfigIssue } from "./errors.js";
import {
  type CloudProvider,
  isLegacyProvider,
  PROVIDER_CONTRACT_VERSION,
  type ProviderContext,
  type ProviderServices,
  serviceTokens,
} from "./provider.js";
import { token } from "./tokens.js";

/** Per provider name, what its `preflight` receives: `services(ctx)`'s return value, or the container. */
export const PreflightArgsToken = token<ReadonlyMap<string, unknown>>("ProviderPreflightArgs");

/** The methods core calls on every service, per kind (besides `update`, which a kind may lack). */
const REQUIRED_METHODS: Readonly<Record<ServiceKind, readonly string[]>> = {
  network: ["create", "read", "delete", "findByTags"],
  nodes: ["create", "read", "delete", "findByTags", "publish"],
  datastore: ["create", "read", "delete", "findByTags"],
  loadBalancer: ["create", "read", "delete", "findByTags", "setTargets", "getTargets"],
  dns: ["create", "read", "delete", "findByTags"],
  secretStore: ["create", "read", "delete", "findByTags", "nameOf", "reveal"],
};

/** What a provider built for one cluster: the services by kind, and the object to hand its `preflight`. */
export interface BuiltServices {
  readonly services: ProviderServices;
  /** `services(ctx)`'s own return value, or the container a contract-1 provider registered into. */
  readonly preflightArg: unknown;
}

/**
 * Builds a provider's services for the given roles, whichever form it uses. A contract-1 provider registers
 * into `container` (a fresh child of the root when absent), and its services are resolved from there.
 */
export function buildServices(
  provider: CloudProvider,
  ctx: ProviderContext<unknown>,
  container: DependencyContainer = rootContainer.createChildContainer(),
): BuiltServices {
  if (!isLegacyProvider(provider)) {
    const returned = provider.services(ctx) as ProviderServices | undefined;
    return { services: returned ?? {}, preflightArg: returned };
  }
  provider.register(container, ctx);
  const services: Record<string, unknown> = {};
  for (const role of ctx.roles) {
    const tok = serviceTokens[role] as InjectionToken<unknown>;
    if (container.isRegistered(tok, true)) services[role] = container.resolve(tok);
  }
  return { services: services as ProviderServices, preflightArg: container };
}

/**
 * What a provider's services lack for the roles it plays, as config issues on `path`: a missing service or
 * method, nodes without `publish` (they would wait forever for the datastore host), or nodes without a
 * metadata reader to read what was published.
 */
export function serviceIssues(
  provider: CloudProvider,
  services: ProviderServices,
  roles: readonly ServiceKind[],
  path = "provider",
): ConfigIssue[] {
  const form = isLegacyProvider(provider) ? "register(container, ctx)" : "services(ctx)";
  const issues: ConfigIssue[] = [];
  for (const role of roles) {
    const svc = services[role] as unknown as Record<string, unknown> | undefined;
    if (!svc || typeof svc !== "object") {
      issues.push({
        path,
        message: `provider '${provider.name}' gives no ${role} service although this cluster uses it for ${role}: its ${form} must return one for each kind in ctx.roles`,
      });
      continue;
    }
    const missing = REQUIRED_METHODS[role].filter((m) => typeof svc[m] !== "function");
    if (missing.includes("publish")) {
      issues.push({
        path,
        message: `provider '${provider.name}': its nodes service has no publish(state, values, ctx), so nodes would wait forever for the datastore host; implement it to store datastore-host, datastore-port and first-server-ip where its metadataReader finds them (see docs/writing-a-provider.md, "Late values")`,
      });
    }
    const others = missing.filter((m) => m !== "publish");
    if (others.length > 0) {
      issues.push({
        path,
        message: `provider '${provider.name}': its ${role} service lacks ${others.join(", ")}; implement the ${role} contract (packages/core/src/resources)`,
      });
    }
  }
  return issues.concat(readerIssues(provider, roles, path));
}

/** A provider with nodes must say how they read what was published to them, and secrets from its store. */
function readerIssues(provider: CloudProvider, roles: readonly ServiceKind[], path: string): ConfigIssue[] {
  const hasReader = provider.metadataReader !== undefined;
  if (roles.includes("secretStore") && roles.includes("nodes") && !provider.secretReader)
    return [
      {
        path,
        message: `provider '${provider.name}' offers a secretStore but no secretReader, so its nodes cannot read their secrets; add secretReader (the files and shell functions k3sinfra_secret / k3sinfra_secret_put)`,
      },
    ];
  if (!roles.includes("nodes") || hasReader) return [];
  return [
    {
      path,
      message: `provider '${provider.name}' declares no metadataReader, so its nodes cannot read the late values it publishes; add metadataReader (a shell function body that prints the value published under key $1)`,
    },
  ];
}

/**
 * Runs a provider's read-only checks with what it built for this cluster: its own services object
 * (contract 2) or the cluster's container (contract 1).
 */
export async function preflightProvider(
  cluster: DependencyContainer,
  bound: BoundProvider,
  ctx: ProviderContext<unknown>,
  signal: AbortSignal,
): Promise<void> {
  const provider = bound.provider;
  if (!provider.preflight) return;
  if (isLegacyProvider(provider)) return provider.preflight(cluster, ctx, signal);
  const args = cluster.isRegistered(PreflightArgsToken, true)
    ? cluster.resolve(PreflightArgsToken)
    : undefined;
  const services = args?.has(provider.name)
    ? args.get(provider.name)
    : buildServices(provider, ctx).preflightArg;
  return provider.preflight(services, ctx, signal);
}

/**
 * The contract checks validation runs on a bound provider, before any cloud call: its services exist for
 * its roles with what core calls (nodes `publish` included), and a note when it uses the deprecated form.
 * `services(ctx)` only builds objects, so calling it here costs nothing and touches no cloud.
 */
export function providerContractChecks(
  bound: BoundProvider,
  config: ProviderContext<unknown>["config"],
  baseDir: string,
  path: string,
): { issues: ConfigIssue[]; warnings: string[] } {
  const provider = bound.provider;
  const warnings = isLegacyProvider(provider)
    ? [
        `provider '${provider.name}' uses register(container, ctx), the contract-1 form, deprecated: it still loads, but contract 3 will refuse it; return plain service objects from services(ctx) and set contractVersion: ${PROVIDER_CONTRACT_VERSION} (docs/writing-a-provider.md)`,
      ]
    : [];
  if (isLegacyProvider(provider)) {
    // Contract 1 promised that validation registers nothing; its services are checked when a command
    // builds the cluster's container, still before any cloud call.
    return { issues: readerIssues(provider, bound.roles, path), warnings };
  }
  const ctx = { config, options: bound.options, roles: bound.roles, baseDir, env: process.env };
  try {
    return {
      issues: serviceIssues(provider, buildServices(provider, ctx).services, bound.roles, path),
      warnings,
    };
  } catch (error) {
    const form = isLegacyProvider(provider) ? "register(container, ctx)" : "services(ctx)";
    return {
      issues: [
        {
          path,
          message: `provider '${provider.name}': ${form} threw ${String((error as Error)?.message ?? error)}; it must only build objects (no cloud call, no credential check: those belong in preflight)`,
        },
      ],
      warnings,
    };
  }
}
