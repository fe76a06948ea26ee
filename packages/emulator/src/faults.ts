/**
 * The faults of a bad day as a front end takes them — a seed, a share of calls throttled, a share answered
 * 500/503, latency, named operations failing — parsed once, into the emulator's `FaultSpec`s. The bin's options
 * (bin-faults.ts) use it, and so can any other front end (`@k3sinfra/emulator/faults`; it loads nothing else of
 * the emulator). A bad value throws a `FaultParseError` saying what is wrong (`problem`, `value`); each front end
 * words the error for its own option names.
 */
import type { FaultKind, FaultSpec } from "./types.js";

export type { FaultKind, FaultSpec } from "./types.js";

/** Every kind of injected fault. */
export const FAULT_KINDS: readonly FaultKind[] = ["error500", "unavailable503", "throttle", "slow"];

/**
 * The emulator's service names by cloud, as its request log and fault filters spell them (AWS's with the
 * aliases the filter accepts; Azure's are the ARM namespaces without `Microsoft.`, plus the identity platform's
 * token endpoint `entra` and IMDS).
 */
export const FAULT_SERVICES_BY_CLOUD = {
  aws: [
    "ec2",
    "elbv2",
    "elasticloadbalancing",
    "rds",
    "route53",
    "iam",
    "ssm",
    "sts",
    "acm",
    "imds",
    "s3",
    "kms",
  ],
  gcp: ["compute", "sqladmin", "dns", "secretmanager", "iam", "metadata"],
  azure: [
    "resources",
    "network",
    "compute",
    "dbformysql",
    "managedidentity",
    "keyvault",
    "authorization",
    "entra",
    "imds",
  ],
  cloudflare: ["dns", "zones", "user"],
} as const;

/** Every service name a fault filter accepts, whichever the cloud. */
export const FAULT_SERVICES: readonly string[] = [...new Set(Object.values(FAULT_SERVICES_BY_CLOUD).flat())];

/** What was wrong: the value's shape, an unknown service or fault kind, or a latency's rate. */
export type FaultProblem = "seed" | "rate" | "latency" | "latency-rate" | "operation" | "service" | "kind";

export class FaultParseError extends Error {
  constructor(
    readonly problem: FaultProblem,
    /** The offending part of the value (the service, the kind, the rate), or the whole value. */
    readonly value: string,
    message: string,
  ) {
    super(message);
  }
}

/** A latency: calls `ms` real milliseconds slower, a share `rate` of them. */
export interface Latency {
  readonly ms: number;
  readonly rate: number;
}

/** Every call of one operation answered with `kind`. */
export interface OperationFault {
  readonly service: string;
  readonly operation: string;
  readonly kind: FaultKind;
}

/** `<n>`: a non-negative integer. */
export const parseSeed = (raw: string): number => {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isSafeInteger(n) || n < 0)
    throw new FaultParseError("seed", raw, `a seed must be a non-negative integer, got "${raw}"`);
  return n;
};

/** A share of calls, 0 to 1 (0: none). */
export const parseRate = (raw: string): number => {
  const n = Number(raw);
  if (raw.trim() === "" || !(n >= 0 && n <= 1))
    throw new FaultParseError("rate", raw, `a rate must be a share of calls from 0 to 1, got "${raw}"`);
  return n;
};

/** `<ms>[:<rate>]`, e.g. `250` (every call 250 ms later) or `1000:0.1`; ms at most 600000, rate default 1. */
export const parseLatency = (raw: string): Latency => {
  const m = /^(\d+)(?::(.+))?$/.exec(raw.trim());
  const ms = Number(m?.[1]);
  if (!m || !Number.isSafeInteger(ms) || ms > 600_000)
    throw new FaultParseError(
      "latency",
      raw,
      `a latency must be <ms>[:<rate>] with ms 0 to 600000, got "${raw}"`,
    );
  if (m[2] === undefined) return { ms, rate: 1 };
  try {
    return { ms, rate: parseRate(m[2]) };
  } catch {
    throw new FaultParseError("latency-rate", m[2], `a latency's rate must be from 0 to 1, got "${m[2]}"`);
  }
};

/**
 * `<service>:<Operation>[=<kind>]` (kind default `error500`), e.g. `ec2:RunInstances=throttle`,
 * `compute:instances.insert` (Google's method names) or `dbformysql:databases_CreateOrUpdate` (Azure's
 * operation ids).
 */
export const parseOperationFault = (raw: string): OperationFault => {
  const m = /^([a-z0-9-]+):([A-Za-z][A-Za-z0-9_.]*)(?:=([a-z0-9]+))?$/.exec(raw.trim());
  if (!m?.[1] || !m[2])
    throw new FaultParseError(
      "operation",
      raw,
      `a failing operation must be <service>:<Operation>[=<kind>], got "${raw}"`,
    );
  if (!FAULT_SERVICES.includes(m[1]))
    throw new FaultParseError(
      "service",
      m[1],
      `unknown service "${m[1]}"; one of ${FAULT_SERVICES.join(", ")}`,
    );
  const kind = FAULT_KINDS.find((k) => k === (m[3] ?? "error500"));
  if (!kind)
    throw new FaultParseError(
      "kind",
      m[3] ?? "",
      `unknown fault "${m[3]}"; one of ${FAULT_KINDS.join(", ")}`,
    );
  return { service: m[1], operation: m[2], kind };
};

/** The choices of a bad day, parsed; absent or zero ones add nothing. */
export interface FaultChoices {
  readonly fail?: readonly OperationFault[] | undefined;
  readonly throttle?: number | undefined;
  readonly fiveXx?: number | undefined;
  readonly latency?: Latency | undefined;
}

/**
 * The emulator's faults for these choices: named operations first (their fault is the one answered when a rate
 * fires on the same call), then throttling, 5xx, latency. A 5xx rate r is shared evenly between 500 and 503: the
 * emulator draws each fault in turn, so the 503's rate is conditional on the 500 not having fired (r/2 each, r in
 * all).
 */
export const faultSpecsOf = (choices: FaultChoices): FaultSpec[] => {
  const specs: FaultSpec[] = (choices.fail ?? []).map((f) => ({
    service: f.service,
    operation: f.operation,
    kind: f.kind,
  }));
  if (choices.throttle) specs.push({ kind: "throttle", rate: choices.throttle });
  const r = choices.fiveXx ?? 0;
  if (r > 0) {
    specs.push({ kind: "error500", rate: r / 2 });
    specs.push({ kind: "unavailable503", rate: r / 2 / (1 - r / 2) });
  }
  const latency = choices.latency;
  if (latency && latency.ms > 0 && latency.rate > 0)
    specs.push({ kind: "slow", rate: latency.rate, delayMs: latency.ms });
  return specs;
};
