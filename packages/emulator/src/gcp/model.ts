/** The emulated Google Cloud project(s): what is stored, and the facts every API shares. */
import type { BootTimelineState } from "../boot/index.js";

/** Where a compute resource lives: global, in a region, or in a zone. */
export interface Scope {
  readonly kind: "global" | "region" | "zone";
  /** Region or zone name; empty for global. */
  readonly name: string;
}

/** One lifecycle step: from `at` (epoch ms) on, the resource reports `status`. */
export interface Step {
  readonly at: number;
  readonly status: string;
}

/** A compute resource as stored: its body as the API returns it, minus what is derived at read time. */
export interface ComputeResource {
  /** `projects/p/zones/z/instances/n`: the key, and the tail of its selfLink. */
  path: string;
  project: string;
  /** Collection as in the URL: `instances`, `firewalls`, `addresses` (regional or global by `scope`). */
  collection: string;
  scope: Scope;
  name: string;
  id: string;
  /** The body: request fields (references normalised to full URLs) and what the API fills in. */
  body: Record<string, unknown>;
  /** Status over time, for resources that have one (instances, SSL certificates). */
  timeline?: Step[];
  /** When a delete in progress removes it (epoch ms). */
  deleteAt?: number;
}

/** A compute Operation; its status is derived from the times (PENDING → RUNNING → DONE). */
export interface ComputeOperation {
  path: string;
  project: string;
  scope: Scope;
  name: string;
  id: string;
  operationType: string;
  targetLink: string;
  targetId: string;
  insertAt: number;
  startAt: number;
  doneAt: number;
  requestId?: string;
  error?: { code: string; message: string; status: number };
}

/** A Cloud SQL instance as stored: its body as returned, minus what is derived at read time. */
export interface SqlInstance {
  project: string;
  name: string;
  body: Record<string, unknown>;
  /** When creation finishes (PENDING_CREATE → RUNNABLE). */
  readyAt: number;
  /** Until when an operation runs on it: another mutation meanwhile is 409 operationInProgress. */
  busyUntil: number;
  deleteAt?: number;
  databases: Record<string, { charset: string; collation: string }>;
  /** `name@host`; passwords are never kept. */
  users: string[];
  /** Port of the local proxy to the real MariaDB behind it (the `mysql` option). */
  connectPort?: number;
}

/** A Cloud SQL operation; its status derives from the times. */
export interface SqlOperation {
  project: string;
  name: string;
  operationType: string;
  targetId: string;
  insertAt: number;
  startAt: number;
  doneAt: number;
  error?: { code: string; message: string };
}

export interface SqlState {
  instances: Record<string, SqlInstance>;
  operations: Record<string, SqlOperation>;
}

/** A Cloud DNS resource record set. */
export interface RRSet {
  name: string;
  type: string;
  ttl: number;
  rrdatas: string[];
}

/** A Cloud DNS managed zone and its record sets. */
export interface DnsZone {
  project: string;
  name: string;
  dnsName: string;
  id: string;
  visibility: "public" | "private";
  rrsets: RRSet[];
}

/** A change: pending until `doneAt`, then done. */
export interface DnsChange {
  project: string;
  zone: string;
  id: string;
  startAt: number;
  doneAt: number;
  additions: RRSet[];
  deletions: RRSet[];
}

export interface DnsState {
  /** `project/zoneName` → zone. */
  zones: Record<string, DnsZone>;
  /** `project/zoneName/changeId` → change. */
  changes: Record<string, DnsChange>;
}

/** A service account (IAM). */
export interface ServiceAccount {
  project: string;
  accountId: string;
  email: string;
  uniqueId: string;
  displayName: string;
  description: string;
}

export interface IamState {
  /** email → account. */
  accounts: Record<string, ServiceAccount>;
  /** Access tokens the metadata server issued → the service account they stand for. */
  tokens: Record<string, { email: string; expiresAt: number }>;
}

/** A Secret Manager secret: versions sealed at rest (AES-256-GCM under the state's key). */
export interface StoredSecret {
  project: string;
  name: string;
  labels: Record<string, string>;
  createTime: string;
  versions: { n: number; sealed: string; createTime: string; state: "ENABLED" | "DESTROYED" }[];
  bindings: { role: string; members: string[] }[];
  etag: number;
}

export interface SecretsState {
  /** Hex key that seals the values (so the state file never holds them in clear). */
  key: string;
  /** `project/name` → secret. */
  secrets: Record<string, StoredSecret>;
}

/** Everything persisted for the gcp cloud (other services add their own maps). */
export interface GcpState {
  version: 1;
  compute: Record<string, ComputeResource>;
  operations: Record<string, ComputeOperation>;
  /** `project/requestId` → operation path: a retried insert returns its first operation. */
  requestIds: Record<string, string>;
  /** Projects seen (each gets a default network on first use). */
  projects: string[];
  /** Next host number per subnetwork path (internal IPs). */
  nextHost: Record<string, number>;
  /** Counter for external addresses. */
  nextExternal: number;
  sql: SqlState;
  dns: DnsState;
  secrets: SecretsState;
  iam: IamState;
  /** Instances whose health checks fail on purpose (`Emulator.setTargetHealth`), by path. */
  unhealthy: string[];
  /** Kubeconfig writes played for server 0s (`simulateBoot`), by instance path. */
  boots: Record<string, { at: number; outcome: "stored" | "refused" | "gave-up"; error?: string }>;
  /** Injected bootstrap failures (`failBootstrap`, `bootFaults`; boot-timeline.ts), by instance path and labels. */
  bootTimeline: BootTimelineState;
}

export const emptyState = (): GcpState => ({
  version: 1,
  compute: {},
  operations: {},
  requestIds: {},
  projects: [],
  nextHost: {},
  nextExternal: 1,
  sql: { instances: {}, operations: {} },
  dns: { zones: {}, changes: {} },
  secrets: { key: "", secrets: {} },
  iam: { accounts: {}, tokens: {} },
  boots: {},
  unhealthy: [],
  bootTimeline: { faults: {}, rules: [] },
});

export const API_ROOT = "https://www.googleapis.com/compute/v1/";

/**
 * Regions with their zones and the default network's auto-mode subnet range there
 * (https://cloud.google.com/vpc/docs/subnets#ip-ranges).
 */
export const REGIONS: Readonly<Record<string, { zones: readonly string[]; cidr: string }>> = {
  "us-central1": { zones: ["a", "b", "c", "f"], cidr: "10.128.0.0/20" },
  "europe-west1": { zones: ["b", "c", "d"], cidr: "10.132.0.0/20" },
  "us-west1": { zones: ["a", "b", "c"], cidr: "10.138.0.0/20" },
  "asia-east1": { zones: ["a", "b", "c"], cidr: "10.140.0.0/20" },
  "us-east1": { zones: ["b", "c", "d"], cidr: "10.142.0.0/20" },
  "europe-west4": { zones: ["a", "b", "c"], cidr: "10.164.0.0/20" },
  "us-east4": { zones: ["a", "b", "c"], cidr: "10.150.0.0/20" },
  "europe-west3": { zones: ["a", "b", "c"], cidr: "10.156.0.0/20" },
};

/** `us-central1-a` → `us-central1`. */
export const regionOfZone = (zone: string): string => zone.replace(/-[a-z]$/, "");

export const zonesOf = (region: string): string[] =>
  (REGIONS[region]?.zones ?? []).map((z) => `${region}-${z}`);

export const knownZone = (zone: string): boolean => zonesOf(regionOfZone(zone)).includes(zone);

/** The path segment of a scope: `global`, `regions/r`, `zones/z`. */
export const scopePath = (s: Scope): string =>
  s.kind === "global" ? "global" : `${s.kind === "region" ? "regions" : "zones"}/${s.name}`;

/** RFC 1035 label, 1–63 characters: what compute accepts as a resource name (compute.proto `name`). */
export const RFC1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * A reference as clients send it (full URL, `projects/p/...`, or relative `global/networks/x` or
 * `zones/z/instances/i`), as the path key `projects/p/...`; undefined when it is not a compute reference.
 */
export function refPath(ref: string, project: string): string | undefined {
  let s = ref.replace(/^https?:\/\/[^/]+\/compute\/(v1|beta)\//, "");
  if (/^(global|regions|zones)\//.test(s)) s = `projects/${project}/${s}`;
  return /^projects\/[^/]+\/(global|regions\/[^/]+|zones\/[^/]+)\/[A-Za-z]+\/[^/]+$/.test(s) ||
    /^projects\/[^/]+\/global\/images\/family\/[^/]+$/.test(s)
    ? s
    : undefined;
}

/** A path key as the full URL the API answers with. */
export const selfLink = (path: string): string => `${API_ROOT}${path}`;

/** RFC 3339 time as the compute API writes it. */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace("Z", "-00:00");

/** The status a timeline shows at `now`. */
export const statusAt = (timeline: readonly Step[] | undefined, now: number): string | undefined => {
  let status: string | undefined;
  for (const step of timeline ?? []) if (step.at <= now) status = step.status;
  return status;
};

/** A dotted IPv4 address as a number, and back. */
export const ipToInt = (ip: string): number => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
export const intToIp = (n: number): string =>
  [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
