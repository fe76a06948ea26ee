/**
 * The conformance suite is itself tested by mutation: each test breaks the memory provider in one way a
 * real provider has been broken, runs the whole suite programmatically, and expects the case that guards
 * against it to fail with an assertion (not a crash of the wrapper). The unbroken provider passes.
 */
import { AssertionError } from "node:assert";
import { describe, expect, it } from "vitest";
import type { DnsRecordSpec, DnsRecordState } from "../src/resources/dns-record.js";
import type { TargetsState } from "../src/resources/load-balancer.js";
import { type ContractServices, MemoryCloud, providerContractCases } from "../src/testing/index.js";
import { type MemoryServices, memoryContract } from "./contract-harness.js";

/** A service whose members in `patch` replace the real ones (`undefined` removes one); the rest pass through. */
const patched = <T extends object>(svc: T, patch: Partial<Record<keyof T, unknown>>): T =>
  new Proxy(svc, {
    get(target, prop, receiver) {
      if (prop in patch) return patch[prop as keyof T];
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });

const run = async (wrap?: (s: MemoryServices) => ContractServices) => {
  const cloud = new MemoryCloud();
  const results = await providerContractCases({
    ...memoryContract(cloud, wrap),
    name: "memory (mutated)",
  }).run();
  return { results, failed: results.filter((r) => r.error !== undefined) };
};

it("the unbroken memory provider passes every case", async () => {
  const { results, failed } = await run();
  expect(results.length).toBeGreaterThanOrEqual(12);
  expect(failed.map((f) => `${f.name}: ${String(f.error)}`)).toEqual([]);
});

type Mutation = readonly [what: string, caseName: string, wrap: (s: MemoryServices) => ContractServices];

const mutations: Mutation[] = [
  [
    "datastore findByTags returns []",
    "datastore: create",
    (s) => ({ ...s, datastore: patched(s.datastore, { findByTags: async () => [] }) }),
  ],
  [
    "nodes findByTags ignores the tags (every node, any cluster)",
    "nodes: create",
    (s) => ({
      ...s,
      nodes: patched(s.nodes, { findByTags: (_t: unknown, ctx: never) => s.nodes.findByTags({}, ctx) }),
    }),
  ],
  [
    "network findByTags matches the resource tag only (another cluster's network too)",
    "network: create",
    (s) => ({
      ...s,
      network: patched(s.network, {
        findByTags: (tags: Record<string, string>, ctx: never) =>
          s.network.findByTags({ "k3sinfra:resource": tags["k3sinfra:resource"] ?? "network" }, ctx),
      }),
    }),
  ],
  [
    "datastore create returns while still creating",
    "datastore: create",
    (s) => ({
      ...s,
      datastore: patched(s.datastore, {
        create: async (spec: never, ctx: never) => ({
          ...(await s.datastore.create(spec, ctx)),
          status: "creating",
        }),
      }),
    }),
  ],
  [
    "datastore create returns before it has a host",
    "datastore: create",
    (s) => ({
      ...s,
      datastore: patched(s.datastore, {
        create: async (spec: never, ctx: never) => ({ ...(await s.datastore.create(spec, ctx)), host: "" }),
      }),
    }),
  ],
  [
    "node create returns while pending, without a private IP",
    "nodes: create",
    (s) => ({
      ...s,
      nodes: patched(s.nodes, {
        create: async (spec: never, ctx: never) => ({
          ...(await s.nodes.create(spec, ctx)),
          status: "pending",
          privateIp: "",
        }),
      }),
    }),
  ],
  [
    "load balancer create returns while provisioning",
    "load balancer (L4): create",
    (s) => ({
      ...s,
      loadBalancer: patched(s.loadBalancer, {
        create: async (spec: never, ctx: never) => ({
          ...(await s.loadBalancer.create(spec, ctx)),
          status: "provisioning",
        }),
      }),
    }),
  ],
  [
    "setTargets does nothing",
    "setTargets registers exactly",
    (s) => ({
      ...s,
      loadBalancer: patched(s.loadBalancer, {
        setTargets: async (lb: { id: string }, nodes: { id: string }[]): Promise<TargetsState> => ({
          id: `${lb.id}/targets`,
          nodeIds: nodes.map((n) => n.id),
        }),
      }),
    }),
  ],
  [
    "setTargets does nothing and getTargets reports what was asked (only the back door sees it)",
    "setTargets registers exactly",
    (s) => {
      const asked = new Map<string, string[]>();
      return {
        ...s,
        loadBalancer: patched(s.loadBalancer, {
          setTargets: async (lb: { id: string }, nodes: { id: string }[]): Promise<TargetsState> => {
            asked.set(
              lb.id,
              nodes.map((n) => n.id),
            );
            return { id: `${lb.id}/targets`, nodeIds: nodes.map((n) => n.id) };
          },
          getTargets: async (lb: { id: string }) => ({
            id: `${lb.id}/targets`,
            nodeIds: asked.get(lb.id) ?? [],
          }),
        }),
      };
    },
  ],
  [
    "the DNS record holds the wrong value",
    "dns (A)",
    (s) => ({
      ...s,
      dns: patched(s.dns, {
        create: (spec: DnsRecordSpec, ctx: never) =>
          s.dns.create({ ...spec, target: { type: "A", addresses: ["192.0.2.66"] } }, ctx),
      }),
    }),
  ],
  [
    "the DNS record holds the wrong value and the provider reports the right one (only the back door sees it)",
    "dns (A)",
    (s) => {
      const claimed = new Map<string, string[]>();
      const lie = (r: DnsRecordState | undefined) => r && { ...r, values: claimed.get(r.id) ?? r.values };
      return {
        ...s,
        dns: patched(s.dns, {
          create: async (spec: DnsRecordSpec, ctx: never) => {
            const made = await s.dns.create(
              { ...spec, target: { type: "A", addresses: ["192.0.2.66"] } },
              ctx,
            );
            claimed.set(made.id, spec.target.type === "A" ? [...spec.target.addresses] : made.values.slice());
            return lie(made);
          },
          read: async (state: DnsRecordState, ctx: never) => lie(await s.dns.read(state, ctx)),
        }),
      };
    },
  ],
  [
    "publish is dropped",
    "publish",
    (s) => ({ ...s, nodes: patched(s.nodes, { publish: async () => undefined }) }),
  ],
  ["publish is missing", "publish", (s) => ({ ...s, nodes: patched(s.nodes, { publish: undefined }) })],
  [
    "deleting a missing node throws",
    "nodes: delete twice",
    (s) => {
      const gone = new Set<string>();
      return {
        ...s,
        nodes: patched(s.nodes, {
          delete: async (state: { id: string }, ctx: never) => {
            if (gone.has(state.id)) throw new Error(`node ${state.id} not found`);
            gone.add(state.id);
            await s.nodes.delete(state as never, ctx);
          },
        }),
      };
    },
  ],
  [
    "node update does not repair drift",
    "drift: update starts a node",
    (s) => ({ ...s, nodes: patched(s.nodes, { update: async (state: unknown) => state }) }),
  ],
  [
    "network update leaves a rule added outside k3sinfra",
    "drift: update removes an ingress rule",
    (s) => ({ ...s, network: patched(s.network, { update: async (state: unknown) => state }) }),
  ],
  [
    "network delete leaves the network behind",
    "destroy leaves nothing",
    (s) => ({ ...s, network: patched(s.network, { delete: async () => undefined }) }),
  ],
];

describe("the suite fails a provider broken this way", () => {
  it.each(mutations)("%s", async (_what, caseName, wrap) => {
    const { failed } = await run(wrap);
    const guard = failed.find((f) => f.name.includes(caseName));
    expect(
      guard,
      `no failure in '${caseName}'; failed: ${failed.map((f) => f.name).join("; ")}`,
    ).toBeDefined();
    expect(guard?.error).toBeInstanceOf(AssertionError);
  });
});
