import type { PlannedChange } from "../../api/types.js";
import type { ResolvedConfig } from "../../config/resolve.js";
import type { ResourceContext, ResourceState, Tags } from "../../resources/common.js";
import type { ResourceKind } from "../../state/types.js";
import type { DesiredResource, SpecBuilder } from "../desired.js";
import type { ClusterRun } from "../run.js";
import type { KindStates } from "./index.js";

export type { ResourceKind };

/** The state type a kind's handler returns and its records hold, read off the table (`kinds/index.ts`). */
export type StateOf<K extends ResourceKind> = KindStates[K];

/** Recorded states of other resources, by kind and graph id; `undefined` when not recorded (yet). */
export type StateLookup = <K extends ResourceKind>(kind: K, id: string) => StateOf<K> | undefined;

/** The calls the orchestrator makes on one resource of a kind, typed over that kind's state. */
export interface KindHandler<State extends ResourceState> {
  /** Creates it (or adopts what an earlier run made under the same idempotency token). */
  create(ctx: ResourceContext): Promise<State>;
  /** Converges it to the spec in place, also to repair drift. */
  update(state: State, ctx: ResourceContext): Promise<State>;
  /** Deletes it; a missing one is not an error. */
  delete(state: State, ctx: ResourceContext): Promise<void>;
  /** Reads it; `undefined` when it is gone. */
  read(state: State, ctx: ResourceContext): Promise<State | undefined>;
  /** Finds every object of this kind that carries the tags (the destroy sweep). */
  find(tags: Tags, ctx: ResourceContext): Promise<State[]>;
}

/** Deletion protection a kind's objects may carry: how to tell, and how to get past it before a delete. */
export interface Protection<State extends ResourceState> {
  /** Whether this object has it on. */
  isOn(state: State): boolean;
  /** Turns it off when allowed (`--allow-protected`), else refuses saying what to do; the state to delete. */
  release(run: ClusterRun, state: State, ctx: ResourceContext, allowProtected: boolean): Promise<State>;
}

/** What `up` is replacing create-before-destroy in this run, for the kinds' `schedule` (`rolling.ts`). */
export interface Rollout {
  /** The load balancer exists and stays (unchanged or updated): servers can be replaced behind it. */
  readonly serversCanRoll: boolean;
  /** The load balancer itself is replaced create-before-destroy in this run. */
  readonly balancerRolling: boolean;
  /** Plan ids of the replaced servers retired in this run (`node-1.g0`). */
  readonly retiring: readonly string[];
}

/** How `up` schedules one change beyond the resource's graph edges. */
export interface Scheduling {
  /** Replaced create-before-destroy (`rolling.ts`) rather than deleted, then created. */
  readonly rolling?: boolean;
  /** Chained after the previous change of the chain: one at a time (servers being replaced). */
  readonly chained?: boolean;
  /** Further tasks it waits for. */
  readonly after?: readonly string[];
  /** Once applied, waits until every server is healthy behind the (new) load balancer. */
  readonly awaitServing?: boolean;
}

/**
 * Everything the orchestrator knows about one kind of resource. One module per kind (`kinds/<kind>.ts`)
 * declares it; the table (`kinds/index.ts`) lists them in graph order, and the phases read nothing else.
 */
export interface KindDescription<State extends ResourceState> {
  /** Which provider manages it: the cluster's compute provider, or its DNS provider. */
  readonly role: "compute" | "dns";
  /** Kinds it depends on: each of its resources waits for every resource of these kinds. */
  readonly dependsOn: readonly ResourceKind[];
  /** Its graph ids for a config, in order (one per node, none when the cluster does without it). */
  ids(resolved: ResolvedConfig): readonly string[];
  /** Default time limit of one call, in ms. */
  readonly timeoutMs: number;
  /** The `timeouts` option that overrides it, when not the kind's own (bootstrap follows `nodes`). */
  readonly timeoutOption?: ResourceKind;
  /** Typical seconds on a real cloud, the scheduler's weights (never a timeout). */
  readonly expectedSeconds: { readonly create: number; readonly delete: number };
  /** Its place in `plan --destroy`'s list (destroy itself follows the reversed graph). */
  readonly deleteRank: number;
  /** How destroy names it when a resource waits for it to be deleted: "the datastore". */
  readonly label: string;
  /** Whether destroy sweeps it by ownership tags (kinds without a cloud object of their own do not). */
  readonly sweeps: boolean;
  /** Whether this cluster's providers serve it at all, so there is something to sweep (default yes). */
  servedBy?(resolved: ResolvedConfig): boolean;
  /** Whether its inputs are all other resources': a changed dependency means update, never replace. */
  readonly derived?: boolean;
  /** Whether its recorded `status` is a steady state `update` restores, so a changed status is drift. */
  readonly statusIsDrift?: boolean;
  /** Spec fields `update` can change in place; `"all"` for kinds that are always updated. */
  updatable(run: ClusterRun): readonly string[] | "all";
  /** Whether drift can be repaired in place (the service has `update`); otherwise it means replace. */
  canRepair(run: ClusterRun): boolean;
  /** Its diffable inputs: no secret, only hashes; `(known after apply)` for what a dependency decides. */
  inputs(builder: SpecBuilder, resource: DesiredResource, lookup: StateLookup): Record<string, string>;
  /** The calls for one of its resources, over the providers' services and the specs from `SpecBuilder`. */
  handler(run: ClusterRun, id: string): KindHandler<State>;
  /** How `up` schedules a change to one of its resources; default: after its graph edges only. */
  schedule?(change: PlannedChange, rollout: Rollout): Scheduling;
  /** Whether a replaced one is retired as soon as its successor exists (servers), not once DNS moved. */
  readonly retiredAtOnce?: boolean;
  /** Why a resource of it that left the config is deleted, in plans. */
  readonly removedReason?: string;
  /** Why a replaced (deposed) one is deleted, in plans. */
  deposedReason(resource: string, state: State): string;
  /** Values whose lifetime ended in the live object: an update even when nothing else changed. */
  retiring?(live: State): readonly string[];
  /** Deletion protection, for kinds whose objects can carry it. */
  readonly protection?: Protection<State>;
}
