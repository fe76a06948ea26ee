import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { ProviderCapabilities, ServiceKind } from "../capabilities.js";
import { DeletionProtectedError, DependencyViolationError } from "../errors.js";
import { defineProvider, type ProviderDescriptor } from "../provider.js";
import type { ResourceContext, ResourceState, Tags } from "../resources/common.js";
import type { DatastoreSpec, DatastoreState } from "../resources/datastore.js";
import type { DnsRecordSpec, DnsRecordState } from "../resources/dns-record.js";
import type { LoadBalancerSpec, LoadBalancerState, TargetsState } from "../resources/load-balancer.js";
import type { NetworkSpec, NetworkState } from "../resources/network.js";
import type { NodeSpec, NodeState } from "../resources/node.js";
import { MemoryCloud, type MemoryObject } from "./memory-cloud.js";
import { MemorySecrets, memorySecretReader } from "./memory-secrets.js";

/** What the in-memory provider can do: everything, so core's paths are all reachable in tests. */
export const memoryCapabilities: ProviderCapabilities = {
  services: ["network", "nodes", "datastore", "loadBalancer", "dns"],
  loadBalancerModes: ["l4", "l7"],
  loadBalancerAddress: "ip",
  l7NeedsCertificate: false,
  dnsRecordTypes: ["A", "CNAME"],
  datastoreEngines: [{ engine: "mysql", versions: ["8.0", "8.4"] }],
  datastoreTls: "optional",
  zones: { "memory-1": ["memory-1a", "memory-1b", "memory-1c"] },
};

/** A service over one kind of object in the fake cloud. */
abstract class MemoryResource<Spec, State extends ResourceState> {
  protected readonly cloud: MemoryCloud;
  constructor(cloud: MemoryCloud) {
    this.cloud = cloud;
  }
  protected abstract readonly objectKind: MemoryObject["kind"];
  protected abstract toState(o: MemoryObject): State;
  protected abstract build(spec: Spec, ctx: ResourceContext): Record<string, unknown>;

  async create(spec: Spec, ctx: ResourceContext): Promise<State> {
    const o = this.cloud.mutate("create", this.objectKind, () =>
      this.cloud.put(
        this.objectKind,
        ctx.name,
        ctx.idempotencyToken,
        { ...ctx.tags, Name: ctx.name },
        this.build(spec, ctx),
      ),
    );
    return this.toState(o);
  }
  async read(state: State): Promise<State | undefined> {
    this.cloud.read("read", this.objectKind);
    const o = this.cloud.objects.get(state.id);
    return o ? this.toState(o) : undefined;
  }
  async update(state: State, spec: Spec): Promise<State> {
    const o = this.cloud.mutate("update", this.objectKind, () => {
      const found = this.cloud.objects.get(state.id);
      if (!found) throw new Error(`${this.objectKind} ${state.id} not found`);
      found.data = { ...found.data, ...this.build(spec, {} as ResourceContext) };
      return found;
    });
    return this.toState(o);
  }
  async delete(state: State): Promise<void> {
    this.cloud.mutate("delete", this.objectKind, () => {
      this.checkDelete(state);
      this.cloud.objects.delete(state.id);
    });
    return;
  }
  protected checkDelete(_state: State): void {}
  async findByTags(tags: Tags): Promise<State[]> {
    this.cloud.read("find", this.objectKind);
    return this.cloud.withTags(tags, this.objectKind).map((o) => this.toState(o));
  }
  async native(): Promise<unknown> {
    return this.cloud;
  }
}

class MemoryNetwork extends MemoryResource<NetworkSpec, NetworkState> {
  readonly updatable = ["rules"] as const;
  protected readonly objectKind = "network" as const;
  protected build(spec: NetworkSpec) {
    const rules = spec.rules.map(
      (r) =>
        `${r.group} ${r.protocol} ${r.port} from ${"group" in r.from ? r.from.group : r.from.cidrs.join(",")}`,
    );
    return { zones: [...spec.zones], rules };
  }
  protected toState(o: MemoryObject): NetworkState {
    const zones = o.data.zones as string[];
    // A fake cloud persisted by an older version kept only a count.
    const rules = Array.isArray(o.data.rules) ? (o.data.rules as string[]) : [];
    return {
      id: o.id,
      networkId: `net-${o.id}`,
      subnets: zones.map((zone, i) => ({ zone, id: `${o.id}-subnet-${i}`, cidr: `10.0.${i}.0/24` })),
      groups: { nodes: `${o.id}-nodes`, loadBalancer: `${o.id}-lb`, datastore: `${o.id}-db` },
      ruleCount: rules.length,
      // Order-independent, like a security group's rules.
      rulesDigest: createHash("sha256")
        .update([...rules].sort().join("\n"))
        .digest("hex")
        .slice(0, 16),
    };
  }
  protected override checkDelete(state: NetworkState): void {
    const users = this.cloud
      .inventory()
      .filter((o) => o.kind !== "network" && o.kind !== "dnsRecord" && o.data.networkId === state.id);
    if (users.length > 0)
      throw new DependencyViolationError(
        `network ${state.id} is still used by ${users.map((u) => u.id).join(", ")}`,
      );
  }
}

class MemoryNodes extends MemoryResource<NodeSpec, NodeState> {
  readonly updatable = [] as const;
  protected readonly objectKind = "node" as const;
  async bootLog(state: NodeState): Promise<string | undefined> {
    this.cloud.read("bootLog", "node");
    return this.cloud.objects.get(state.id)?.data.bootLog as string | undefined;
  }
  protected build(spec: NodeSpec) {
    return {
      networkId: spec.network.id,
      zone: spec.zone,
      index: spec.index,
      instanceType: spec.instanceType ?? `mem.${spec.size.vcpus}x${spec.size.memoryGiB}`,
      userDataHash: spec.userDataHash,
    };
  }
  protected toState(o: MemoryObject): NodeState {
    const index = o.data.index as number;
    const status = (o.data.status as string | undefined) ?? "running";
    return {
      id: o.id,
      name: o.name,
      zone: o.data.zone as string,
      privateIp: `10.0.${index}.${10 + index}`,
      // A stopped instance has no public address.
      publicIp: status === "running" ? `198.51.100.${10 + index}` : undefined,
      status,
      instanceType: o.data.instanceType as string,
    };
  }
  /** Repairs drift only (nothing is updatable in place): starts a stopped node. */
  override async update(state: NodeState): Promise<NodeState> {
    const o = this.cloud.mutate("update", "node", () => {
      const found = this.cloud.objects.get(state.id);
      if (!found) throw new Error(`node ${state.id} not found; it must be replaced`);
      found.data = { ...found.data, status: "running" };
      return found;
    });
    return this.toState(o);
  }
  async publish(state: NodeState, values: Readonly<Record<string, string>>): Promise<void> {
    this.cloud.mutate("publish", "node", () => {
      const o = this.cloud.objects.get(state.id);
      if (o) o.data = { ...o.data, published: { ...values } };
    });
    return;
  }
}

class MemoryDatastore extends MemoryResource<DatastoreSpec, DatastoreState> {
  readonly updatable = ["deletionProtection", "backupRetentionDays", "storageGiB"] as const;
  protected readonly objectKind = "datastore" as const;
  protected build(spec: DatastoreSpec) {
    // The password is checked, never stored: the fake cloud keeps no secret.
    if (!/^[A-Za-z0-9]{8,41}$/.test(spec.password.reveal()))
      throw new Error("password must be 8-41 alphanumeric characters");
    return {
      networkId: spec.network.id,
      version: spec.version,
      deletionProtection: spec.deletionProtection,
      backupRetentionDays: spec.backupRetentionDays,
      storageGiB: spec.storageGiB,
    };
  }
  protected toState(o: MemoryObject): DatastoreState {
    return {
      id: o.id,
      name: o.name,
      host: `${o.name}.db.memory.test`,
      port: 3306,
      engineVersion: `${o.data.version as string}.0`,
      status: "available",
      deletionProtection: o.data.deletionProtection as boolean,
      tls: { required: false },
    };
  }
  protected override checkDelete(state: DatastoreState): void {
    if (this.cloud.objects.get(state.id)?.data.deletionProtection)
      throw new DeletionProtectedError(`datastore ${state.id} has deletion protection on`);
  }
}

class MemoryLoadBalancer extends MemoryResource<LoadBalancerSpec, LoadBalancerState> {
  readonly updatable = ["idleTimeoutSeconds", "certificate"] as const;
  protected readonly objectKind = "loadBalancer" as const;
  protected build(spec: LoadBalancerSpec) {
    return { networkId: spec.network.id, mode: spec.mode, targets: [] as string[] };
  }
  protected toState(o: MemoryObject): LoadBalancerState {
    const n = Number.parseInt(o.id.slice(-2), 16) % 250;
    return {
      id: o.id,
      name: o.name,
      mode: o.data.mode as "l4" | "l7",
      hostname: `${o.name}.lb.memory.test`,
      ips: [`203.0.113.${n + 1}`],
      sourceCidrs: ["10.0.0.0/16"],
      status: "active",
    };
  }
  async setTargets(lb: LoadBalancerState, nodes: readonly NodeState[]): Promise<TargetsState> {
    const ids = nodes.map((n) => n.id);
    this.cloud.mutate("setTargets", "loadBalancer", () => {
      const o = this.cloud.objects.get(lb.id);
      if (!o) throw new Error(`load balancer ${lb.id} not found`);
      o.data = { ...o.data, targets: ids };
    });
    return { id: `${lb.id}/targets`, nodeIds: ids };
  }
  async getTargets(lb: LoadBalancerState): Promise<TargetsState | undefined> {
    this.cloud.read("getTargets", "loadBalancer");
    const o = this.cloud.objects.get(lb.id);
    if (!o) return undefined;
    const nodeIds = o.data.targets as string[];
    // Healthy at once when running, unless its checks were made to fail (`MemoryCloud.failHealthChecks`).
    const healthy = nodeIds.filter((id) => {
      const node = this.cloud.objects.get(id);
      return node && (node.data.status ?? "running") === "running" && !node.data.healthFailing;
    });
    return { id: `${lb.id}/targets`, nodeIds, healthy };
  }
}

class MemoryDns extends MemoryResource<DnsRecordSpec, DnsRecordState> {
  readonly updatable = ["target", "ttl", "proxied"] as const;
  protected readonly objectKind = "dnsRecord" as const;
  protected build(spec: DnsRecordSpec) {
    const t = spec.target;
    const values = t.type === "A" ? [...t.addresses] : t.type === "CNAME" ? [t.hostname] : [t.dnsName];
    return { zone: spec.zone, hostname: spec.hostname, type: t.type, values, ttl: spec.ttl };
  }
  protected toState(o: MemoryObject): DnsRecordState {
    return {
      id: o.id,
      zoneId: `zone-${o.data.zone as string}`,
      hostname: o.data.hostname as string,
      type: o.data.type as "A",
      values: o.data.values as string[],
      ttl: o.data.ttl as number,
    };
  }
}

/** Options of the in-memory provider (`options.memory` in a config). */
export interface MemoryOptions {
  /** Persist the fake cloud to this file, so separate CLI runs share it. */
  readonly persistPath?: string;
}

const defaultClouds = new Map<string, MemoryCloud>();

/**
 * Makes an in-memory provider named `memory`, over the given fake cloud (tests keep a handle on it as the
 * back door) or over one chosen by `options.memory.persistPath`.
 */
export function createMemoryProvider(
  cloud?: MemoryCloud,
  features: {
    /** Keep the cluster's secrets in the fake cloud's secret store (nodes "read" them from files). */
    readonly secretStore?: boolean;
  } = {},
): ProviderDescriptor<MemoryOptions> {
  return defineProvider<MemoryOptions>({
    contractVersion: 2,
    name: "memory",
    capabilities: features.secretStore
      ? { ...memoryCapabilities, services: [...memoryCapabilities.services, "secretStore"] }
      : memoryCapabilities,
    ...(features.secretStore ? { secretReader: memorySecretReader } : {}),
    // The fake cloud "publishes" into files, as a provider with a metadata service would into tags.
    metadataReader: 'cat "/var/lib/k3sinfra/metadata/$1" 2>/dev/null',
    parseOptions(raw) {
      const o = (raw ?? {}) as Record<string, unknown>;
      const unknown = Object.keys(o).filter((k) => k !== "persistPath");
      if (unknown.length > 0)
        return {
          ok: false,
          issues: unknown.map((k) => ({
            path: k,
            message: "is not an option of the memory provider (only persistPath)",
          })),
        };
      if (o.persistPath !== undefined && typeof o.persistPath !== "string")
        return { ok: false, issues: [{ path: "persistPath", message: "must be a file path" }] };
      return { ok: true, value: o as MemoryOptions };
    },
    services(ctx) {
      // Relative paths resolve from the config file's directory, like every path in a config.
      const persistPath = ctx.options.persistPath ? resolve(ctx.baseDir, ctx.options.persistPath) : undefined;
      const key = persistPath ?? "";
      const theCloud = cloud ?? defaultClouds.get(key) ?? new MemoryCloud({ persistPath });
      if (!cloud) defaultClouds.set(key, theCloud);
      const has = (role: ServiceKind) => ctx.roles.includes(role);
      return {
        network: has("network") ? new MemoryNetwork(theCloud) : undefined,
        nodes: has("nodes") ? new MemoryNodes(theCloud) : undefined,
        datastore: has("datastore") ? new MemoryDatastore(theCloud) : undefined,
        loadBalancer: has("loadBalancer") ? new MemoryLoadBalancer(theCloud) : undefined,
        dns: has("dns") ? new MemoryDns(theCloud) : undefined,
        secretStore: has("secretStore") ? new MemorySecrets(theCloud) : undefined,
      };
    },
  });
}

/** The `memory` provider over a process-wide fake cloud (or the persisted one), as loaded by name. */
export const memoryProvider: ProviderDescriptor<MemoryOptions> = createMemoryProvider();
export default memoryProvider;
