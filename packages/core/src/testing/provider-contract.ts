import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { DependencyContainer } from "tsyringe";
import { clusterTags, resourceTags } from "../naming.js";
import { firewallRules } from "../network-rules.js";
import type { ResourceContext, Tags } from "../resources/common.js";
import { DatastoreService } from "../resources/datastore.js";
import { DnsRecordService, type DnsTarget } from "../resources/dns-record.js";
import { LoadBalancerService, type LoadBalancerState } from "../resources/load-balancer.js";
import { NetworkService, type NetworkState } from "../resources/network.js";
import { NodeService } from "../resources/node.js";
import { Secret } from "../secret.js";
import type { PollPolicy } from "../wait.js";
import { makeContext } from "./context.js";

type TestFn = (name: string, fn: () => Promise<void>, timeout?: number) => void;
type SuiteFn = (name: string, fn: () => void) => void;
type HookFn = (fn: () => Promise<void>, timeout?: number) => void;

/** A fresh container with the provider's services registered, and the back door to the cloud behind it. */
export interface ContractHarness {
  /** Container in which the provider registered its services (e.g. through `createClusterContainer` or `provider.register`). */
  readonly container: DependencyContainer;
  /**
   * The back door: ids of the cloud objects that carry every given tag, read from the cloud's own inventory
   * (emulator inventory, fake cloud), not through the provider under test.
   */
  owned(tags: Tags): Promise<string[]>;
  /** Releases what the harness started. */
  close?(): Promise<void>;
}

/** Which parts of the contract to run, keyv-style: turn off what a provider does not implement. */
export interface ContractToggles {
  network?: boolean;
  nodes?: boolean;
  datastore?: boolean;
  loadBalancer?: boolean;
  dns?: boolean;
  /** Also run the L7 load balancer (needs `certificate`). */
  l7?: boolean;
}

export interface ProviderContractOptions {
  /** Test functions from the runner (vitest's or node:test's). */
  readonly describe: SuiteFn;
  readonly it: TestFn;
  readonly beforeAll: HookFn;
  readonly afterAll: HookFn;
  /** Name shown in the report. */
  readonly name: string;
  /** Makes a harness; called again for the adoption test, which needs a fresh container and service instances. */
  readonly harness: () => Promise<ContractHarness>;
  readonly region: string;
  readonly zones: readonly string[];
  /** DNS zone that exists in the cloud, and the target a DNS-only provider points at. */
  readonly dns?: { readonly zone: string; readonly target?: DnsTarget };
  /** Certificate reference for L7. */
  readonly certificate?: string;
  readonly toggles?: ContractToggles;
  readonly poll?: PollPolicy;
  /** Per-test timeout in ms. */
  readonly timeoutMs?: number;
}

/**
 * The conformance suite every provider runs, built-in or custom. For each service: create is idempotent,
 * a crashed run's object is adopted (not duplicated) by a fresh process, find-by-tags works, deleting a
 * missing object is fine, and after deleting everything nothing carrying the cluster's tags is left.
 */
export function runProviderContract(o: ProviderContractOptions): void {
  const t = {
    network: true,
    nodes: true,
    datastore: true,
    loadBalancer: true,
    dns: true,
    l7: false,
    ...o.toggles,
  };
  const cluster = `ct${randomUUID().slice(0, 8)}`;
  const lineage = randomUUID();
  const timeout = o.timeoutMs ?? 60_000;
  const ctx = (resource: string): ResourceContext =>
    makeContext({ cluster, resource, region: o.region, lineage, ...(o.poll ? { poll: o.poll } : {}) });
  let h: ContractHarness;
  let network: NetworkState | undefined;

  const expectOwnedOnce = async (resource: string) => {
    const ids = await h.owned(resourceTags(cluster, resource));
    assert.ok(ids.length >= 1, `${resource}: the cloud has no object tagged for it`);
    return ids;
  };

  o.describe(`provider contract: ${o.name}`, () => {
    o.beforeAll(async () => {
      h = await o.harness();
    }, timeout);
    o.afterAll(async () => {
      await h?.close?.();
    }, timeout);

    if (t.network) {
      o.it(
        "network: create is idempotent and adopts after a crash",
        async () => {
          const svc = h.container.resolve(NetworkService);
          const spec = {
            zones: o.zones,
            rules: firewallRules({ mode: "l4", clientCidrs: ["0.0.0.0/0"], adminCidrs: [], ssh: false }),
          };
          const first = await svc.create(spec, ctx("network"));
          const before = await expectOwnedOnce("network");
          const again = await svc.create(spec, ctx("network"));
          assert.equal(
            again.id,
            first.id,
            "a second create with the same context must return the same network",
          );
          const fresh = await o.harness();
          try {
            const adopted = await fresh.container.resolve(NetworkService).create(spec, ctx("network"));
            assert.equal(adopted.id, first.id, "a fresh process must adopt the network, not create another");
          } finally {
            await fresh.close?.();
          }
          assert.deepEqual(
            (await h.owned(resourceTags(cluster, "network"))).sort(),
            before.sort(),
            "no duplicate objects",
          );
          assert.equal(first.subnets.length, o.zones.length, "one subnet per zone");
          network = first;
        },
        timeout,
      );
    }

    const needNetwork = () => {
      assert.ok(network, "the network test must pass first");
      return network;
    };

    if (t.nodes) {
      o.it(
        "nodes: idempotent create, find by tags, read, delete twice",
        async () => {
          const svc = h.container.resolve(NodeService);
          const spec = {
            index: 0,
            zone: o.zones[0] ?? "",
            size: { vcpus: 2, memoryGiB: 4 },
            diskGiB: 30,
            image: "ubuntu-24.04",
            userData: "#cloud-config\n",
            userDataHash: "x",
            network: needNetwork(),
          };
          const a = await svc.create(spec, ctx("node-0"));
          const b = await svc.create(spec, ctx("node-0"));
          assert.equal(b.id, a.id, "same node on a repeated create");
          assert.deepEqual(
            await h.owned(resourceTags(cluster, "node-0")),
            [a.id].filter((id) => id),
            "exactly one node object",
          );
          assert.ok(a.privateIp, "a private IP");
          const found = await svc.findByTags(resourceTags(cluster, "node-0"), ctx("node-0"));
          assert.deepEqual(
            found.map((n) => n.id),
            [a.id],
          );
          assert.deepEqual(
            await svc.findByTags(resourceTags(`${cluster}x`, "node-0"), ctx("node-0")),
            [],
            "another cluster's tags find nothing",
          );
          await svc.delete(a, ctx("node-0"));
          await svc.delete(a, ctx("node-0"));
          assert.equal(await svc.read(a, ctx("node-0")), undefined, "read after delete is undefined");
        },
        timeout,
      );
    }

    if (t.datastore) {
      o.it(
        "datastore: idempotent create, update, protected delete refused, delete",
        async () => {
          const svc = h.container.resolve(DatastoreService);
          const spec = {
            engine: "mysql" as const,
            version: "8.4",
            size: { vcpus: 2, memoryGiB: 8 },
            storageGiB: 20,
            highAvailability: false,
            deletionProtection: true,
            backupRetentionDays: 1,
            username: "k3sadmin",
            password: new Secret("Abcdefgh12345678Abcdefgh12345678"),
            network: needNetwork(),
          };
          const a = await svc.create(spec, ctx("datastore"));
          const b = await svc.create(spec, ctx("datastore"));
          assert.equal(b.id, a.id);
          await expectOwnedOnce("datastore");
          assert.ok(a.host && a.port > 0, "an endpoint");
          await assert.rejects(svc.delete(a, ctx("datastore")), "deletion protection must refuse delete");
          assert.ok(svc.update, "datastore update (deletion protection off) is required");
          const off = await svc.update(a, { ...spec, deletionProtection: false }, ctx("datastore"));
          assert.equal(off.deletionProtection, false);
          await svc.delete(off, ctx("datastore"));
          await svc.delete(off, ctx("datastore"));
          assert.equal(await svc.read(off, ctx("datastore")), undefined);
        },
        timeout,
      );
    }

    const lbTest = (mode: "l4" | "l7") => async () => {
      const svc = h.container.resolve(LoadBalancerService);
      const id = mode === "l4" ? "load-balancer" : "lb7";
      const spec = {
        mode,
        zones: o.zones,
        certificate: o.certificate,
        healthCheck: {
          protocol: "tcp" as const,
          port: 80,
          intervalSeconds: 10,
          timeoutSeconds: 6,
          healthyThreshold: 3,
          unhealthyThreshold: 3,
        },
        idleTimeoutSeconds: 1800,
        crossZone: true,
        network: needNetwork(),
      };
      const a: LoadBalancerState = await svc.create(spec, ctx(id));
      const b = await svc.create(spec, ctx(id));
      assert.equal(b.id, a.id);
      await expectOwnedOnce(id);
      assert.ok(a.hostname || (a.ips && a.ips.length > 0), "an address");
      const targets = await svc.setTargets(a, [], ctx(id));
      assert.deepEqual(targets.nodeIds, []);
      await svc.delete(a, ctx(id));
      await svc.delete(a, ctx(id));
      assert.equal(await svc.read(a, ctx(id)), undefined);
    };
    if (t.loadBalancer)
      o.it("load balancer (L4): idempotent create, targets, delete twice", lbTest("l4"), timeout);
    if (t.loadBalancer && t.l7) o.it("load balancer (L7): idempotent create, delete", lbTest("l7"), timeout);

    if (t.dns) {
      o.it(
        "dns: upsert is idempotent, find by tags, delete twice",
        async () => {
          assert.ok(o.dns, "dns options are required for the DNS contract");
          const svc = h.container.resolve(DnsRecordService);
          const spec = {
            zone: o.dns.zone,
            hostname: `${cluster}.${o.dns.zone}`,
            target: o.dns.target ?? { type: "A" as const, addresses: ["203.0.113.10"] },
            ttl: 300,
            proxied: false,
          };
          const a = await svc.create(spec, ctx("dns-record"));
          const b = await svc.create(spec, ctx("dns-record"));
          assert.equal(b.id, a.id);
          assert.equal(a.hostname, spec.hostname);
          const found = await svc.findByTags(clusterTags(cluster), ctx("dns-record"));
          assert.deepEqual(
            found.map((r) => r.id),
            [a.id],
            "the record is found by the cluster's tags",
          );
          await svc.delete(a, ctx("dns-record"));
          await svc.delete(a, ctx("dns-record"));
          assert.equal(await svc.read(a, ctx("dns-record")), undefined);
        },
        timeout,
      );
    }

    if (t.network) {
      o.it(
        "destroy leaves nothing carrying the cluster's tags",
        async () => {
          const svc = h.container.resolve(NetworkService);
          if (network) {
            await svc.delete(network, ctx("network"));
            await svc.delete(network, ctx("network"));
          }
          assert.deepEqual(
            await h.owned(clusterTags(cluster)),
            [],
            "objects with this cluster's tags remain",
          );
        },
        timeout,
      );
    }
  });
}
