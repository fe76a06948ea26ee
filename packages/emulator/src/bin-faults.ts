/**
 * The bin's fault options (`--throttle`, `--5xx`, `--latency`, `--fail`) as `FaultSpec`s: the same faults, the
 * same way, as the CLI's `--emulate-throttle`, `--emulate-5xx`, `--emulate-latency` and `--emulate-fail`.
 */
import type { FaultKind, FaultSpec } from "./types.js";

/** The fault options as `parseArgs` returns them (strings; `fail` repeatable). */
export interface FaultArgs {
  throttle?: string | undefined;
  "5xx"?: string | undefined;
  latency?: string | undefined;
  fail?: string[] | undefined;
}

/** A bad option value; the message names the option. */
export class FaultArgError extends Error {}

const KINDS: readonly FaultKind[] = ["error500", "unavailable503", "throttle", "slow"];

/** The emulator's service names (request log, fault filters), with the aliases the filter accepts. */
export const FAULT_SERVICES = [
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
  "dns",
  "zones",
  "user",
] as const;

const rate = (option: string, raw: string): number => {
  const n = Number(raw);
  if (raw.trim() === "" || !(n >= 0 && n <= 1))
    throw new FaultArgError(`${option} must be a share of calls from 0 to 1, e.g. 0.2; got "${raw}"`);
  return n;
};

/** `--seed <n>`: a non-negative integer. */
export const parseSeedArg = (raw: string): number => {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isSafeInteger(n) || n < 0)
    throw new FaultArgError(`--seed must be a non-negative integer, got "${raw}"`);
  return n;
};

/** `<service>:<Operation>[=<kind>]` (kind default error500). */
export const parseFailArg = (raw: string): FaultSpec => {
  const m = /^([a-z0-9-]+):([A-Za-z][A-Za-z0-9]*)(?:=([a-z0-9]+))?$/.exec(raw.trim());
  if (!m?.[1] || !m[2])
    throw new FaultArgError(
      `--fail must be <service>:<Operation>[=<kind>], e.g. ec2:RunInstances=error500; got "${raw}"`,
    );
  if (!(FAULT_SERVICES as readonly string[]).includes(m[1]))
    throw new FaultArgError(`--fail: unknown service "${m[1]}"; one of ${FAULT_SERVICES.join(", ")}`);
  const kind = KINDS.find((k) => k === (m[3] ?? "error500"));
  if (!kind) throw new FaultArgError(`--fail: unknown fault "${m[3]}"; one of ${KINDS.join(", ")}`);
  return { service: m[1], operation: m[2], kind };
};

/**
 * The faults for these options: named operations first (their fault wins when a rate fires on the same call),
 * then throttling, 5xx (shared evenly between 500 and 503: the 503's rate is conditional on the 500 not having
 * fired, so r in all), then latency. Rates of 0 add nothing.
 */
export const faultsFromArgs = (args: FaultArgs): FaultSpec[] => {
  const specs = (args.fail ?? []).map(parseFailArg);
  const throttle = args.throttle === undefined ? 0 : rate("--throttle", args.throttle);
  if (throttle > 0) specs.push({ kind: "throttle", rate: throttle });
  const r = args["5xx"] === undefined ? 0 : rate("--5xx", args["5xx"]);
  if (r > 0) {
    specs.push({ kind: "error500", rate: r / 2 });
    specs.push({ kind: "unavailable503", rate: r / 2 / (1 - r / 2) });
  }
  if (args.latency !== undefined) {
    const m = /^(\d+)(?::(.+))?$/.exec(args.latency.trim());
    const ms = Number(m?.[1]);
    if (!m || !Number.isSafeInteger(ms) || ms > 600_000)
      throw new FaultArgError(
        `--latency must be <ms>[:<rate>] with ms 0 to 600000, e.g. 250 or 1000:0.1; got "${args.latency}"`,
      );
    const share = m[2] === undefined ? 1 : rate("--latency's rate", m[2]);
    if (ms > 0 && share > 0) specs.push({ kind: "slow", rate: share, delayMs: ms });
  }
  return specs;
};
