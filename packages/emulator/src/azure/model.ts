/** The emulated subscription's state (what is persisted) and the shape every resource type plugs in with. */
import type { BootTimelineState } from "../boot/index.js";
import type { Rng } from "../rng.js";
import type { ArmPath } from "./arm.js";

/** One ARM resource as stored. Lifecycle is derived lazily from timestamps (`readyAt`, `deleteAt`). */
export interface Res {
  /** The id with the case it was created with (ARM keeps it; lookups ignore case). */
  id: string;
  /** Canonical type, e.g. `Microsoft.Network/virtualNetworks/subnets`. */
  type: string;
  name: string;
  resourceGroup?: string | undefined;
  location?: string | undefined;
  tags?: Record<string, string> | undefined;
  sku?: unknown;
  zones?: string[] | undefined;
  identity?: unknown;
  properties: Record<string, unknown>;
  createdAt: number;
  /** Provisioning ends (provisioningState Succeeded) at this time. */
  readyAt: number;
  /** Deletion accepted: the resource is gone at this time. */
  deleteAt?: number | undefined;
  /** What the emulator keeps and never returns (a password's hash, a power state history). */
  hidden?: Record<string, unknown> | undefined;
  etag: string;
}

/** A long-running operation, polled through the absolute URLs of its answer. */
export interface Op {
  id: string;
  kind: "put" | "delete" | "action";
  resourceId: string;
  startedAt: number;
  doneAt: number;
  /** `Failed` with this error once done, instead of `Succeeded`. */
  error?: { code: string; message: string } | undefined;
  /** What the Location URL answers once done (the action's result); PUT answers the resource. */
  result?: unknown;
}

/** A soft-deleted Key Vault, recoverable (and its name taken) until purged or `scheduledPurgeAt`. */
export interface DeletedVault {
  name: string;
  location: string;
  vaultId: string;
  deletedAt: number;
  scheduledPurgeAt: number;
  purgeProtection: boolean;
  tags: Record<string, string>;
}

/** One secret version in a vault's data plane. */
export interface SecretVersion {
  version: string;
  value: string;
  contentType?: string | undefined;
  tags?: Record<string, string> | undefined;
  created: number;
}

/** A soft-deleted secret: its versions, recoverable (and its name taken) until purged. */
export interface DeletedSecret {
  deletedAt: number;
  scheduledPurgeAt: number;
  versions: SecretVersion[];
}

export interface AzureState {
  version: 1;
  /** By lower-cased id. */
  resources: Record<string, Res>;
  operations: Record<string, Op>;
  /** By lower-cased vault name (names are global). */
  deletedVaults: Record<string, DeletedVault>;
  /** By lower-cased vault name, then secret name: versions, newest last. */
  secrets: Record<string, Record<string, SecretVersion[]>>;
  /** By lower-cased vault name, then secret name (absent in states saved before the data plane existed). */
  deletedSecrets?: Record<string, Record<string, DeletedSecret>>;
  /** Next private address offset per subnet id (lower-cased). */
  nextIp: Record<string, number>;
  /** The VMs' injected bootstrap faults (boot.ts, `Emulator.failBootstrap`), made on first use. */
  boot?: BootTimelineState;
  /** The key boot diagnostics' SAS URIs are signed with (boot-diagnostics.ts), made on first use. */
  bootDiagnosticsKey?: string;
  /** VMs whose load balancer probes fail (the `setTargetHealth` back door), by lower-cased id. */
  unhealthy?: Record<string, true>;
}

export const emptyState = (): AzureState => ({
  version: 1,
  resources: {},
  operations: {},
  deletedVaults: {},
  secrets: {},
  nextIp: {},
});

/** What a resource type's hooks see. */
export interface KindCtx {
  readonly now: number;
  /** Multiplies every duration (`timeScale`). */
  readonly scale: number;
  readonly rng: Rng;
  readonly path: ArmPath;
  readonly apiVersion: string;
  /** The HTTPS base URL clients reach the emulator at (a vault's `vaultUri`). */
  readonly base: string;
  /** The emulated tenant (managed identities carry it). */
  readonly tenant: string;
  /** A live resource by id (any case), `undefined` when missing or deleted. */
  get(id: string): Res | undefined;
  /** Live resources of a type (any case), optionally under a parent id. */
  list(type: string, parentId?: string): Res[];
  /** The emulated subscription's state, for what is not a resource (secrets, deleted vaults, addresses). */
  readonly state: AzureState;
  /** A resource as GET answers it (for parents that show their children). */
  render(r: Res): Record<string, unknown>;
}

/** The parts of a PUT body a type keeps; the engine adds id, name, type, etag and timestamps. */
export interface Built {
  properties: Record<string, unknown>;
  location?: string | undefined;
  tags?: Record<string, string> | undefined;
  sku?: unknown;
  zones?: string[] | undefined;
  identity?: unknown;
  hidden?: Record<string, unknown> | undefined;
}

/**
 * How the answer to a PUT or DELETE looks (resource providers differ): `sync` (the final answer at once),
 * `async` (201/200 with the body and `Azure-AsyncOperation`), `accepted` (202 with `Azure-AsyncOperation` and
 * `Location`), `location` (202 with `Location` only).
 */
export type LroStyle = "sync" | "async" | "accepted" | "location";

/** One resource type: its rules and its server-side behaviour. */
export interface Kind {
  readonly type: string;
  /** api-versions accepted; unset: any. */
  readonly apiVersions?: readonly string[];
  /** Provisioning and deletion times at time scale 1, in ms. */
  readonly createMs: number;
  readonly deleteMs: number;
  readonly putStyle: LroStyle;
  /** The type reports its own lifecycle field (MySQL's `state`) instead of `provisioningState`. */
  readonly noProvisioningState?: boolean;
  readonly deleteStyle: LroStyle;
  /** Names are compared case-insensitively; this says why a name is refused, or `undefined`. */
  nameRule?(name: string): string | undefined;
  /** Checks a PUT body (the swagger's required fields, enums, references) and returns what is stored. */
  put(body: Record<string, unknown>, ctx: KindCtx, existing: Res | undefined): Built;
  /** Derived fields merged into `properties` on every read (provisioningState is added by the engine). */
  view?(res: Res, ctx: KindCtx): Record<string, unknown>;
  /** Throws when the resource cannot be deleted now (in use). */
  beforeDelete?(res: Res, ctx: KindCtx): void;
  /** After deletion was accepted (soft-delete records, child cleanup). */
  afterDelete?(res: Res, ctx: KindCtx): void;
  /** POST actions on the resource, by lower-cased name. */
  readonly actions?: Readonly<
    Record<string, (res: Res, body: Record<string, unknown>, ctx: KindCtx) => ActionResult>
  >;
}

/** What an action does: its duration and, when it completes, the result. */
export interface ActionResult {
  readonly ms: number;
  readonly result?: unknown;
}
