import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { clusterTags, resourceTags } from "../../naming.js";
import type { ResourceContext, ResourceService, ResourceState } from "../../resources/common.js";
import type { DatastoreState } from "../../resources/datastore.js";
import type { LoadBalancerState } from "../../resources/load-balancer.js";
import type { NetworkState } from "../../resources/network.js";
import type { NodeSpec, NodeState } from "../../resources/node.js";
import type { SecretsState } from "../../resources/secret-store.js";
import { makeContext } from "../context.js";
import { buildHarness, type ResolvedToggles, resolveToggles } from "./harness.js";
import type {
  ContractHarness,
  ContractServices,
  ProviderContractOptions,
  ReadyStatus,
  ServiceKind,
} from "./types.js";

type Service<K extends ServiceKind> = NonNullable<ContractServices[K]>;

/** What the cases of one suite run share: options, the cluster under test, the harness, made objects. */
export interface Kit {
  readonly o: ProviderContractOptions;
  readonly t: ResolvedToggles;
  readonly ready: ReadyStatus;
  readonly cluster: string;
  /** Another cluster's name: its tags must never find this cluster's objects. */
  readonly other: string;
  readonly timeout: number;
  ctx(resource: string): ResourceContext;
  /** The suite's harness (made in `beforeAll`). */
  h(): ContractHarness;
  /** A fresh set of the provider's services with the back doors, as a new process would build them. */
  fresh(): Promise<ContractHarness>;
  /** A service of the suite's harness, or of the given one (a "fresh process"). */
  svc<K extends ServiceKind>(kind: K, harness?: ContractHarness): Service<K>;
  /** Objects earlier cases made, for later ones. */
  readonly made: {
    network?: NetworkState;
    nodes: NodeState[];
    nodeSpecs: NodeSpec[];
    lb?: LoadBalancerState;
    secrets?: SecretsState;
  };
  setHarness(h: ContractHarness): void;
}

export function makeKit(o: ProviderContractOptions): Kit {
  const t = resolveToggles(o);
  const cluster = `ct${randomUUID().slice(0, 8)}`;
  const lineage = randomUUID();
  let harness: ContractHarness | undefined;
  return {
    o,
    t,
    ready: {
      nodes: ["running"],
      datastore: ["available"],
      loadBalancer: ["active"],
      ...o.readyStatus,
    },
    cluster,
    other: `${cluster}x`,
    timeout: o.timeoutMs ?? 60_000,
    ctx: (resource) =>
      makeContext({ cluster, resource, region: o.region, lineage, ...(o.poll ? { poll: o.poll } : {}) }),
    h() {
      assert.ok(harness, "the harness was not made (beforeAll failed)");
      return harness;
    },
    setHarness(h) {
      harness = h;
    },
    fresh: () => buildHarness(o, t, cluster),
    svc(kind, given) {
      const svc = (given ?? this.h()).services[kind];
      assert.ok(
        svc,
        `provider '${o.provider.name}' built no ${kind} service (its services(ctx) returns none)`,
      );
      return svc as Service<typeof kind>;
    },
    made: { nodes: [], nodeSpecs: [] },
  };
}

const isIp = (s: string | undefined) =>
  !!s && (/^\d{1,3}(\.\d{1,3}){3}$/.test(s) || (s.includes(":") && /^[0-9a-f:]+$/i.test(s)));

export const readyWord = (words: readonly string[], status: string | undefined) =>
  !!status && words.some((w) => w.toLowerCase() === status.toLowerCase());

/** Asserts a node, datastore or load balancer state describes a ready object. */
export function assertReady(
  k: Kit,
  kind: "nodes" | "datastore" | "loadBalancer",
  s: ResourceState,
  how: string,
) {
  const label = `${kind} ${how}`;
  assert.ok(s.id, `${label}: no id`);
  if (kind === "nodes") {
    const n = s as NodeState;
    assert.ok(
      readyWord(k.ready.nodes, n.status),
      `${label}: status '${n.status}' is not ready (${k.ready.nodes})`,
    );
    assert.ok(isIp(n.privateIp), `${label}: no private IP ('${n.privateIp}')`);
  } else if (kind === "datastore") {
    const d = s as DatastoreState;
    assert.ok(readyWord(k.ready.datastore, d.status), `${label}: status '${d.status}' is not ready`);
    assert.ok(d.host, `${label}: no host`);
    assert.ok(Number.isInteger(d.port) && d.port > 0 && d.port < 65536, `${label}: bad port ${d.port}`);
  } else {
    const lb = s as LoadBalancerState;
    assert.ok(readyWord(k.ready.loadBalancer, lb.status), `${label}: status '${lb.status}' is not ready`);
    assert.ok(lb.hostname || (lb.ips && lb.ips.length > 0), `${label}: no address (hostname or IPs)`);
  }
}

/**
 * `create` returned only once ready: the returned state is ready, `read` says the same, and so does the
 * cloud itself (the harness's `status` back door) when the harness has one.
 */
export async function assertReadyEverywhere<S extends ResourceState>(
  k: Kit,
  kind: "nodes" | "datastore" | "loadBalancer",
  svc: ResourceService<never, S>,
  state: S,
  resource: string,
): Promise<void> {
  assertReady(k, kind, state, "returned by create");
  const read = await svc.read(state, k.ctx(resource));
  assert.ok(read, `${kind}: read right after create finds nothing`);
  assert.equal(read.id, state.id, `${kind}: read returns another object`);
  assertReady(k, kind, read, "read after create");
  const status = k.h().status;
  if (status) {
    const live = await status.call(k.h(), state.id);
    assert.ok(
      readyWord(k.ready[kind], live),
      `${kind}: the cloud reports '${live}' for ${state.id}, not ready`,
    );
  }
}

/**
 * `findByTags` returns what this resource made (exactly its ids) and nothing for another cluster's tags;
 * the cluster's tags find it too.
 */
export async function assertFindByTags(
  k: Kit,
  svc: Pick<ResourceService<never, ResourceState>, "findByTags">,
  resource: string,
  ids: readonly string[],
): Promise<void> {
  const ctx = k.ctx(resource);
  const mine = await svc.findByTags(resourceTags(k.cluster, resource), ctx);
  assert.deepEqual(
    mine.map((s) => s.id).sort(),
    [...ids].sort(),
    `${resource}: findByTags with its tags must return exactly what it made`,
  );
  const all = (await svc.findByTags(clusterTags(k.cluster), ctx)).map((s) => s.id);
  for (const id of ids)
    assert.ok(all.includes(id), `${resource}: findByTags with the cluster's tags misses ${id}`);
  assert.deepEqual(
    await svc.findByTags(resourceTags(k.other, resource), ctx),
    [],
    `${resource}: findByTags with another cluster's tags must find nothing`,
  );
}

/** Deleting twice is fine, read then finds nothing, and the cloud holds nothing tagged for the resource. */
export async function assertDeletedTwice<S extends ResourceState>(
  k: Kit,
  svc: ResourceService<never, S>,
  state: S,
  resource: string,
): Promise<void> {
  await svc.delete(state, k.ctx(resource));
  await assert.doesNotReject(
    svc.delete(state, k.ctx(resource)),
    `${resource}: deleting a missing object must not fail`,
  );
  assert.equal(
    await svc.read(state, k.ctx(resource)),
    undefined,
    `${resource}: read after delete must be undefined`,
  );
  assert.deepEqual(
    await k.h().owned(resourceTags(k.cluster, resource)),
    [],
    `${resource}: the cloud still holds objects tagged for it after delete`,
  );
}

/** The cloud holds at least one object tagged for the resource (verified through the back door). */
export async function ownedIds(k: Kit, resource: string): Promise<string[]> {
  const ids = await k.h().owned(resourceTags(k.cluster, resource));
  assert.ok(ids.length >= 1, `${resource}: the cloud has no object tagged for it`);
  return ids.sort();
}

/** A fresh harness (a new process after a crash) creating the same resource adopts the object made before. */
export async function assertAdopted(
  k: Kit,
  kind: ServiceKind,
  spec: unknown,
  resource: string,
  id: string,
): Promise<void> {
  const fresh = await k.fresh();
  const svc = k.svc(kind, fresh) as unknown as ResourceService<unknown, ResourceState>;
  const adopted = await svc.create(spec, k.ctx(resource));
  assert.equal(adopted.id, id, `${resource}: a fresh process must adopt the object, not create another`);
}
