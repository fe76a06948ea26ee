import type { ResolvedConfig } from "../../config/resolve.js";
import type { ResourceContext, ResourceState, Tags } from "../../resources/common.js";
import type { ResourceKind } from "../../state/types.js";
import type { DesiredResource } from "../desired.js";
import type { ClusterRun } from "../run.js";
import { bootstrap } from "./bootstrap.js";
import { datastore } from "./datastore.js";
import { dns } from "./dns.js";
import { loadBalancer } from "./load-balancer.js";
import { network } from "./network.js";
import { nodes } from "./nodes.js";
import { secrets } from "./secrets.js";
import { targets } from "./targets.js";
import type { KindDescription, StateLookup, StateOf } from "./types.js";

/**
 * Every kind of resource, in graph order (a kind comes after the kinds it depends on). `ResourceKind` is
 * this table's keys; adding a kind is one module (`kinds/<kind>.ts`) and one line here.
 */
const DESCRIPTIONS = { network, secrets, datastore, nodes, loadBalancer, targets, dns, bootstrap };

/** The state type of each kind, read off its description. */
export type KindStates = {
  readonly [K in keyof typeof DESCRIPTIONS]: (typeof DESCRIPTIONS)[K] extends KindDescription<
    infer S extends ResourceState
  >
    ? S
    : never;
};

/** The table, typed so that indexing it with a kind gives that kind's description over its own state. */
export const KINDS: { readonly [K in ResourceKind]: KindDescription<KindStates[K]> } = DESCRIPTIONS;

/** A state as recorded: the provider's object, read back from the state file. */
export type RecordedState = Readonly<Record<string, unknown>> & { readonly id: string };

/** A recorded resource (or a deposed one): its kind and its state. */
export interface Recorded {
  readonly kind: ResourceKind;
  readonly state: RecordedState;
}

/**
 * The one place a recorded state gets its kind's type back. A state is only ever recorded (`journal.ts`
 * `record`) with what its own kind's handler returned, and read back from the state file as that JSON, so a
 * record whose kind is `kind` holds a `StateOf<kind>`: checking the kind is the proof.
 */
export function holds<K extends ResourceKind>(
  kind: K,
  r: { readonly kind: ResourceKind; readonly state: unknown },
): r is { readonly kind: K; readonly state: StateOf<K> } {
  return r.kind === kind;
}

/** The recorded state of resource `id` if it is of `kind`. */
export function stateIn<K extends ResourceKind>(
  resources: Readonly<Record<string, Recorded>>,
  kind: K,
  id: string,
): StateOf<K> | undefined {
  const r = resources[id];
  return r && holds(kind, r) ? r.state : undefined;
}

/** A typed state as the state file keeps it (the JSON of its fields). */
const recorded = <S extends ResourceState>(
  s: S,
): Readonly<Record<keyof S & string, unknown>> & ResourceState => s;

/** The calls of a `KindHandler`, on states as recorded; each checks that the record is of its kind. */
export interface RecordedHandler {
  /** Creates it (or adopts what an earlier run made); the state to record. */
  create(ctx: ResourceContext): Promise<RecordedState>;
  /** Converges the recorded one to the spec in place; the state to record. */
  update(r: Recorded, ctx: ResourceContext): Promise<RecordedState>;
  /** Reads the recorded one from the cloud; `undefined` when it is gone. */
  read(r: Recorded, ctx: ResourceContext): Promise<RecordedState | undefined>;
  /** Deletes the recorded one (no deletion protection handling: see `Kind.remove`). */
  delete(r: Recorded, ctx: ResourceContext): Promise<void>;
}

/** An object found by ownership tags, with its delete (protection released first, as for a record). */
export interface Leftover {
  /** The provider's id of the object. */
  readonly id: string;
  /** Deletes it, nothing waiting on it: its deletion protection released (or refused) first. */
  remove(ctx: ResourceContext, allowProtected: boolean): Promise<void>;
}

/**
 * A kind as the phases use it: its description with the state type closed over (an existential: each
 * description is typed over its own state, and the phases handle records of any kind).
 */
export interface Kind
  extends Omit<KindDescription<ResourceState>, "handler" | "deposedReason" | "retiring" | "protection"> {
  /** Its name: the key it has in the table. */
  readonly kind: ResourceKind;
  /** The calls for one of its resources, on recorded states. */
  handler(run: ClusterRun, id: string): RecordedHandler;
  /** Deletes a recorded one, nothing waiting on it: its deletion protection released (or refused) first. */
  remove(
    run: ClusterRun,
    id: string,
    r: Recorded,
    ctx: ResourceContext,
    allowProtected: boolean,
  ): Promise<void>;
  /** What carries the tags, each with its delete (the destroy sweep). */
  leftovers(run: ClusterRun, tags: Tags, ctx: ResourceContext): Promise<Leftover[]>;
  /** Why a replaced (deposed) one is deleted, in plans. */
  deposedReason(r: Recorded & { readonly resource: string }): string;
  /** Values whose lifetime ended in a live object of this kind. */
  retiring(r: Recorded): readonly string[];
  /** Whether a recorded one has deletion protection on. */
  isProtected(r: Recorded): boolean;
}

/**
 * A deletion nothing waits on: once the cloud accepted it, what depends on it may go (a DNS record's deletion
 * need not reach every name server before the load balancer it pointed at is deleted).
 */
const noSync = (ctx: ResourceContext): ResourceContext => ({ ...ctx, waitForSync: false });

/** Opens one description for the phases: the state type stays inside, behind `holds`. */
function erase<K extends ResourceKind>(kind: K, d: KindDescription<StateOf<K>>): Kind {
  const open = (r: Recorded): StateOf<K> => {
    if (!holds(kind, r)) throw new Error(`internal: a ${r.kind} record was handed to the ${kind} handler`);
    return r.state;
  };
  const release = async (run: ClusterRun, s: StateOf<K>, ctx: ResourceContext, allow: boolean) =>
    d.protection ? d.protection.release(run, s, ctx, allow) : s;
  return {
    ...d,
    kind,
    handler: (run, id) => {
      const h = d.handler(run, id);
      return {
        create: async (ctx) => recorded(await h.create(ctx)),
        update: async (r, ctx) => recorded(await h.update(open(r), ctx)),
        read: async (r, ctx) => {
          const live = await h.read(open(r), ctx);
          return live && recorded(live);
        },
        delete: (r, ctx) => h.delete(open(r), ctx),
      };
    },
    remove: async (run, id, r, ctx, allow) =>
      d.handler(run, id).delete(await release(run, open(r), ctx, allow), noSync(ctx)),
    leftovers: async (run, tags, ctx) =>
      (await d.handler(run, "sweep").find(tags, ctx)).map((s) => ({
        id: s.id,
        remove: async (c, allow) =>
          d.handler(run, "sweep").delete(await release(run, s, c, allow), noSync(c)),
      })),
    deposedReason: (r) => d.deposedReason(r.resource, open(r)),
    retiring: (r) => (d.retiring ? d.retiring(open(r)) : []),
    isProtected: (r) => (d.protection ? d.protection.isOn(open(r)) : false),
  };
}

/** Whether a name is a kind of the table. */
const isKind = (name: string): name is ResourceKind => Object.hasOwn(KINDS, name);

/** Each kind opened once, in graph order (the table's key order). */
const ALL: readonly Kind[] = Object.keys(KINDS)
  .filter(isKind)
  .map(<K extends ResourceKind>(kind: K) => erase(kind, KINDS[kind]));
const BY_NAME = new Map(ALL.map((k) => [k.kind, k]));

/** Every kind, in graph order. */
export const allKinds = (): readonly Kind[] => ALL;

/** The description of one kind. */
export function kindOf(kind: ResourceKind): Kind {
  const k = BY_NAME.get(kind);
  if (!k) throw new Error(`unknown resource kind '${kind}' in state`);
  return k;
}

/** The scheduler's weight for one task on a resource of this kind (its expected seconds). */
export const expectedSeconds = (kind: ResourceKind, action: "create" | "delete"): number =>
  kindOf(kind).expectedSeconds[action];

/**
 * The dependency graph of a config, from each kind's `ids` and `dependsOn`: network; then datastore, nodes
 * and LB in parallel (nodes after the secret store, when there is one); then targets, DNS, bootstrap.
 */
export function desiredResources(r: ResolvedConfig): DesiredResource[] {
  const ids = new Map(ALL.map((k) => [k.kind, k.ids(r)]));
  return ALL.flatMap((k) =>
    (ids.get(k.kind) ?? []).map((id) => ({
      id,
      kind: k.kind,
      dependsOn: k.dependsOn.flatMap((dep) => ids.get(dep) ?? []),
      provider: k.role === "dns" ? r.dns.provider.name : r.compute.provider.name,
    })),
  );
}

/**
 * What each kind depends on at the kind level (nodes are interchangeable): the kinds this config has
 * resources of, for a kind it has; else every kind it is declared to depend on.
 */
export function kindDependencies(r: ResolvedConfig): Map<ResourceKind, Set<ResourceKind>> {
  const has = new Set(desiredResources(r).map((d) => d.kind));
  return new Map(
    ALL.map((k) => [k.kind, new Set(has.has(k.kind) ? k.dependsOn.filter((d) => has.has(d)) : k.dependsOn)]),
  );
}

/** A lookup of recorded states in a set of records, for `inputs`. */
export const lookupIn =
  (resources: Readonly<Record<string, Recorded>>): StateLookup =>
  (kind, id) =>
    stateIn(resources, kind, id);
