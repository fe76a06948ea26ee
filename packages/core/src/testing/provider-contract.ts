import {
  type CollectOptions,
  type ContractCase,
  type ContractResult,
  collectProviderContract,
} from "./contract/collect.js";
import { datastoreCases } from "./contract/datastore.js";
import { dnsCases } from "./contract/dns.js";
import { driftCases } from "./contract/drift.js";
import { makeKit } from "./contract/kit.js";
import { loadBalancerCases, loadBalancerDeleteCase } from "./contract/load-balancer.js";
import { destroyCase, networkCases } from "./contract/network.js";
import { nodeCases, nodesDeleteCase } from "./contract/nodes.js";
import { secretStoreCases, secretStoreDeleteCase } from "./contract/secrets.js";
import type { ProviderContractOptions } from "./contract/types.js";

export type {
  BackDoorRecord,
  ContractBackDoors,
  ContractEnv,
  ContractHarness,
  ContractServices,
  ContractToggles,
  ProviderContractOptions,
  ReadyStatus,
} from "./contract/types.js";
export type { CollectOptions, ContractCase, ContractResult };

/**
 * The conformance suite every provider runs, built-in or custom: `runProviderContract({ provider, options,
 * env, region, zones, owned, … })`. It builds the provider's services itself, as core does for a command,
 * and runs the parts the provider's capabilities name (each toggle overridable). Cases run in order and share the objects
 * they make (network → secret store → nodes → datastore → load balancer and targets → DNS → drift → deletes): create is
 * idempotent, adopted by a fresh process and returns only once ready; find-by-tags returns exactly what was
 * made and nothing of another cluster; targets and DNS values hold exactly what was asked; published values
 * read back; update repairs drift; deleting a missing object is fine; nothing tagged is left. Each result is
 * checked through the provider and through the harness's back doors into the cloud.
 */
export function runProviderContract(o: ProviderContractOptions): void {
  const k = makeKit(o);
  o.describe(`provider contract: ${o.name ?? o.provider.name}`, () => {
    o.beforeAll(async () => {
      k.setHarness(await k.fresh());
    }, k.timeout);
    o.afterAll(async () => {
      await o.close?.();
    }, k.timeout);

    if (k.t.network) networkCases(k);
    if (k.t.secretStore) secretStoreCases(k);
    if (k.t.nodes) nodeCases(k);
    if (k.t.datastore) datastoreCases(k);
    if (k.t.loadBalancer) loadBalancerCases(k);
    if (k.t.dns) dnsCases(k);
    driftCases(k);
    if (k.t.loadBalancer) loadBalancerDeleteCase(k);
    if (k.t.nodes) nodesDeleteCase(k);
    if (k.t.secretStore) secretStoreDeleteCase(k);
    if (k.t.network) destroyCase(k);
  });
}

/** `runProviderContract`'s cases without a test runner, to run and inspect programmatically. */
export const providerContractCases = (
  options: CollectOptions,
): { readonly cases: readonly ContractCase[]; run(): Promise<ContractResult[]> } =>
  collectProviderContract(options, runProviderContract);
