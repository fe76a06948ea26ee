// The critical-path ratio of `up` and `destroy` on the emulator: the time from the first to the last API call,
// in emulated seconds, divided by the longest chain of the emulator's own durations (what no scheduler can
// beat). 1.00 means every step on the longest chain started the moment its dependencies were done.
import { destroy, MemoryStateStore, type PollPolicy, ProviderRegistry, up } from "@k3sinfra/core";
import {
  AWS_DURATIONS,
  type RequestLogEntry,
  startEmulator,
  VirtualClock,
} from "../packages/emulator/src/index.js";
import { aws } from "../packages/provider-aws/src/index.js";
import { benchConfig } from "./config.js";
import { emulatedSpan } from "./stats.js";

export { benchConfig };

/**
 * The emulator's lifecycle durations at time scale 1, in seconds: its own table (`AWS_DURATIONS`,
 * packages/emulator/src/aws/kernel/durations.ts, which its services read), so the bound moves with them; the
 * target group's health check settings come from core's desired.ts. Everything else (VPC, subnets, security
 * groups, SSM, tags) is ready as soon as the call returns.
 */
export const EMULATED = {
  rdsCreate: AWS_DURATIONS.rds.creating + AWS_DURATIONS.rds.backingUp, // creating, then backing-up, then available
  rdsDelete: AWS_DURATIONS.rds.deleting,
  elbProvisioning: AWS_DURATIONS.elbv2.provisioning,
  ec2Pending: AWS_DURATIONS.ec2.pending,
  ec2ShuttingDown: AWS_DURATIONS.ec2.shuttingDown,
  route53Pending: AWS_DURATIONS.route53.pending,
  healthChecks: 3 * 10, // healthyThreshold × intervalSeconds after registration (and the LB active)
} as const;

/** One step of the longest-chain model: its own duration and the steps it waits for. */
type Step = { readonly seconds: number; readonly after: readonly string[] };

const longest = (steps: Readonly<Record<string, Step>>): number => {
  const memo = new Map<string, number>();
  const end = (id: string): number => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const s = steps[id]!;
    const t = s.seconds + Math.max(0, ...s.after.map(end));
    memo.set(id, t);
    return t;
  };
  return Math.max(...Object.keys(steps).map(end));
};

/**
 * `up`'s graph with the emulator's durations: the datastore's chain (network → datastore → bootstrap) against
 * the load balancer's (network → LB → DNS in sync; targets healthy) and the nodes'.
 */
export const upBound = (): number =>
  longest({
    network: { seconds: 0, after: [] },
    datastore: { seconds: EMULATED.rdsCreate, after: ["network"] },
    nodes: { seconds: EMULATED.ec2Pending, after: ["network"] },
    lb: { seconds: EMULATED.elbProvisioning, after: ["network"] },
    targets: { seconds: EMULATED.healthChecks, after: ["lb", "nodes"] },
    dns: { seconds: EMULATED.route53Pending, after: ["lb"] },
    bootstrap: { seconds: 0, after: ["datastore", "nodes"] },
    ready: { seconds: 0, after: ["bootstrap", "targets"] },
  });

/**
 * `destroy`'s reversed graph: DNS and targets first (a DNS deletion needs no sync: nothing waits on it), then
 * the LB, the servers (shutting down) and the datastore (deleting), then the network.
 */
export const destroyBound = (): number =>
  longest({
    dns: { seconds: 0, after: [] },
    targets: { seconds: 0, after: [] },
    bootstrap: { seconds: 0, after: [] },
    lb: { seconds: 0, after: ["dns", "targets"] },
    nodes: { seconds: EMULATED.ec2ShuttingDown, after: ["targets", "bootstrap"] },
    datastore: { seconds: EMULATED.rdsDelete, after: ["bootstrap"] },
    network: { seconds: 0, after: ["lb", "nodes", "datastore"] },
  });

/** One command's calls: emulated seconds from the first to the last, against the bound. */
export interface Phase {
  readonly seconds: number;
  readonly bound: number;
  readonly ratio: number;
  readonly calls: number;
  /** The emulator's request log of this command alone. */
  readonly log: readonly RequestLogEntry[];
}

export interface CriticalPath {
  readonly nodes: number;
  /** The cluster's resources (the plan's changes: network, secrets, datastore, each node, LB, targets, DNS, bootstrap). */
  readonly resources: number;
  readonly up: Phase;
  readonly destroy: Phase;
}

export interface RunOptions {
  /** Cloud API calls in flight at once; default core's (4). */
  readonly parallelism?: number;
  /** Default 5–50 ms: fine enough that polling adds next to nothing to the ratio (it measures the scheduler). */
  readonly poll?: PollPolicy;
}

const phase = (log: readonly RequestLogEntry[], timeScale: number, bound: number): Phase => {
  const seconds = emulatedSpan(log, timeScale);
  return { seconds, bound, ratio: seconds / bound, calls: log.length, log };
};

/**
 * Runs `up` then `destroy` of one cluster of `count` servers on a fresh emulator at `timeScale`, on a virtual
 * clock (the emulator's `VirtualClock`, handed to core's poll policy too): emulated time passes only while every
 * client waits, so the ratio measures the scheduler and the polling cadence alone — never the machine's load or
 * the process's own work — and a 9-minute datastore costs about a second of wall time.
 */
export async function measureCriticalPath(
  count: number,
  timeScale: number,
  options: RunOptions = {},
): Promise<CriticalPath> {
  const clock = new VirtualClock();
  const emulator = await startEmulator({
    timeScale,
    seed: 12,
    virtualClock: clock,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    log: () => undefined,
  });
  try {
    const state = new MemoryStateStore();
    const run = {
      registry: new ProviderRegistry().register(aws),
      state,
      env: {
        AWS_ENDPOINT_URL: emulator.endpoints.aws!,
        AWS_ACCESS_KEY_ID: emulator.credentials.aws.accessKeyId,
        AWS_SECRET_ACCESS_KEY: emulator.credentials.aws.secretAccessKey,
      },
      poll: { ...(options.poll ?? { minDelayMs: 5, maxDelayMs: 50 }), clock },
      ...(options.parallelism ? { parallelism: options.parallelism } : {}),
    };
    const name = `cp${count}`;
    const result = await up(benchConfig(name, count), run);
    const upLog = emulator.requestLog();
    await destroy(benchConfig(name, count), run);
    const destroyLog = emulator.requestLog().slice(upLog.length);
    return {
      nodes: count,
      resources: result.plan.changes.length,
      up: phase(upLog, timeScale, upBound()),
      destroy: phase(destroyLog, timeScale, destroyBound()),
    };
  } finally {
    await emulator.stop();
  }
}
