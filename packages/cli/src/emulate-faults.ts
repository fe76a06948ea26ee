/**
 * Faults from the command line: `--emulate-seed`, `--emulate-throttle`, `--emulate-5xx`, `--emulate-latency` and
 * `--emulate-fail` turned into the emulator's `FaultSpec`s, described for the banner, and counted at the end of
 * the run. Loaded with the program (for its argument parsers), so it imports commander alone.
 */

import type { FaultKind, FaultSpec, RequestLogEntry } from "@k3sinfra/emulator";
import { type Command, InvalidArgumentError } from "commander";

/** `--emulate-latency <ms>[:<rate>]`: calls delayed by `ms` real milliseconds, a share `rate` of them. */
export interface LatencyFault {
  readonly ms: number;
  readonly rate: number;
}

/** `--emulate-fail <service:Operation>[=kind]`: every call of that operation answers with `kind`. */
export interface OperationFault {
  readonly service: string;
  readonly operation: string;
  readonly kind: FaultKind;
}

/** The fault flags as commander hands them over (each parsed by its argument parser below). */
export interface EmulateFaultFlags {
  readonly emulateSeed?: number;
  readonly emulateThrottle?: number;
  readonly emulate5xx?: number;
  readonly emulateLatency?: LatencyFault;
  readonly emulateFail?: readonly OperationFault[];
}

/** Each flag and its option key, in the order the help lists them. */
export const FAULT_FLAGS = [
  ["--emulate-seed", "emulateSeed"],
  ["--emulate-throttle", "emulateThrottle"],
  ["--emulate-5xx", "emulate5xx"],
  ["--emulate-latency", "emulateLatency"],
  ["--emulate-fail", "emulateFail"],
] as const satisfies readonly (readonly [string, keyof EmulateFaultFlags])[];

const KINDS = ["error500", "unavailable503", "throttle", "slow"] as const satisfies readonly FaultKind[];

/** The emulator's service names (its request log's), by cloud, with the aliases its fault filter accepts. */
const SERVICES = [
  "ec2",
  "elbv2",
  "elasticloadbalancing",
  "rds",
  "route53",
  "iam",
  "ssm",
  "sts",
  "acm",
  "dns",
  "zones",
  "user",
] as const;

// InvalidArgumentError makes commander report a usage error (exit 2) naming the option and the value.

/** `--emulate-seed <n>`: a non-negative integer. */
export const parseSeed = (raw: string): number => {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError("It must be a non-negative integer, e.g. 7.");
  return n;
};

/** A share of calls, 0 to 1 (0: none). */
export const parseRate = (raw: string): number => {
  const n = Number(raw);
  if (raw.trim() === "" || !(n >= 0 && n <= 1))
    throw new InvalidArgumentError("It must be a share of calls from 0 to 1, e.g. 0.2.");
  return n;
};

/** `<ms>[:<rate>]`: e.g. `250` (every call 250 ms later) or `1000:0.1`. */
export const parseLatency = (raw: string): LatencyFault => {
  const m = /^(\d+)(?::(.+))?$/.exec(raw.trim());
  const ms = Number(m?.[1]);
  if (!m || !Number.isSafeInteger(ms) || ms > 600_000)
    throw new InvalidArgumentError("It must be <ms>[:<rate>] with ms 0 to 600000, e.g. 250 or 1000:0.1.");
  if (m[2] === undefined) return { ms, rate: 1 };
  const rate = Number(m[2]);
  if (!(rate >= 0 && rate <= 1))
    throw new InvalidArgumentError("Its rate (after the colon) must be from 0 to 1, e.g. 1000:0.1.");
  return { ms, rate };
};

/** `<service:Operation>[=kind]`, repeatable: collected into a list. */
export const parseFail = (raw: string, previous: readonly OperationFault[] = []): OperationFault[] => {
  const m = /^([a-z0-9-]+):([A-Za-z][A-Za-z0-9]*)(?:=([a-z0-9]+))?$/.exec(raw.trim());
  if (!m?.[1] || !m[2])
    throw new InvalidArgumentError(
      "It must be <service>:<Operation>[=<kind>], e.g. ec2:RunInstances or rds:CreateDBInstance=unavailable503.",
    );
  const service = m[1];
  if (!(SERVICES as readonly string[]).includes(service))
    throw new InvalidArgumentError(`Unknown service '${service}'; one of ${SERVICES.join(", ")}.`);
  const kind = KINDS.find((k) => k === (m[3] ?? "error500"));
  if (!kind) throw new InvalidArgumentError(`Unknown fault '${m[3]}'; one of ${KINDS.join(", ")}.`);
  return [...previous, { service, operation: m[2], kind }];
};

/** The first fault flag given, as the user typed it, when `--emulate` is not: they only act on the emulator. */
export const faultFlagWithoutEmulate = (
  opts: EmulateFaultFlags & { readonly emulate?: boolean },
): string | undefined =>
  opts.emulate ? undefined : FAULT_FLAGS.find(([, key]) => opts[key] !== undefined)?.[0];

/** commander `preAction` hook: a fault flag without `--emulate` is a usage error (exit 2) naming it. */
export const requireEmulateForFaults = (_program: Command, action: Command): void => {
  const flag = faultFlagWithoutEmulate(action.optsWithGlobals());
  if (flag)
    action.error(`error: ${flag} only applies to the emulated cloud: add --emulate, or leave ${flag} out.`, {
      exitCode: 2,
      code: "k3sinfra.emulateOnly",
    });
};

/** Whether any fault is asked for (rates of 0 are none). */
export const hasFaults = (flags: EmulateFaultFlags): boolean =>
  !!flags.emulateThrottle ||
  !!flags.emulate5xx ||
  !!(flags.emulateLatency && flags.emulateLatency.rate > 0 && flags.emulateLatency.ms > 0) ||
  (flags.emulateFail?.length ?? 0) > 0;

/**
 * The emulator's faults for these flags. Named operations come first, so their fault is the one answered when
 * a rate fires on the same call. A 5xx rate is shared evenly between 500 and 503: the emulator draws each fault
 * in turn, so the 503's rate is conditional on the 500 not having fired (r/2 each, r in all).
 */
export const faultSpecs = (flags: EmulateFaultFlags): FaultSpec[] => {
  const specs: FaultSpec[] = [];
  for (const f of flags.emulateFail ?? []) {
    specs.push({ service: f.service, operation: f.operation, kind: f.kind });
  }
  if (flags.emulateThrottle) specs.push({ kind: "throttle", rate: flags.emulateThrottle });
  const r = flags.emulate5xx;
  if (r) {
    specs.push({ kind: "error500", rate: r / 2 });
    specs.push({ kind: "unavailable503", rate: r / 2 / (1 - r / 2) });
  }
  const latency = flags.emulateLatency;
  if (latency && latency.rate > 0 && latency.ms > 0) {
    specs.push({ kind: "slow", rate: latency.rate, delayMs: latency.ms });
  }
  return specs;
};

const percent = (rate: number) => `${Number((rate * 100).toFixed(2))}%`;

/** For the `--emulate` banner: `Injected faults (seed 7): 20% of calls throttled, ec2:RunInstances → error500.` */
export const describeFaults = (flags: EmulateFaultFlags, seed: number): string | undefined => {
  if (!hasFaults(flags)) return undefined;
  const parts: string[] = [];
  for (const f of flags.emulateFail ?? []) parts.push(`every ${f.service}:${f.operation} → ${f.kind}`);
  if (flags.emulateThrottle) parts.push(`${percent(flags.emulateThrottle)} of calls throttled`);
  if (flags.emulate5xx) parts.push(`${percent(flags.emulate5xx)} answered 500/503`);
  const latency = flags.emulateLatency;
  if (latency && latency.rate > 0 && latency.ms > 0)
    parts.push(
      `${latency.rate === 1 ? "every call" : `${percent(latency.rate)} of calls`} ${latency.ms} ms slower`,
    );
  return `Injected faults (seed ${seed}): ${parts.join(", ")}.`;
};

/**
 * For the end of the run: how many calls got an injected fault, by kind, and each named operation no call
 * reached (a misspelt name, or a command that never calls it).
 */
export const summarizeFaults = (
  flags: EmulateFaultFlags,
  log: readonly RequestLogEntry[],
): string | undefined => {
  if (!hasFaults(flags)) return undefined;
  const byKind = new Map<string, number>();
  for (const e of log) if (e.fault) byKind.set(e.fault, (byKind.get(e.fault) ?? 0) + 1);
  const faulted = [...byKind.values()].reduce((a, b) => a + b, 0);
  const kinds = [...byKind].map(([kind, n]) => `${kind} ${n}`).join(", ");
  let line = `Emulator: ${faulted} of ${log.length} calls got an injected fault${kinds ? ` (${kinds})` : ""}.`;
  const alias: Record<string, string> = { elasticloadbalancing: "elbv2" };
  const unmatched = (flags.emulateFail ?? []).filter(
    (f) => !log.some((e) => e.service === (alias[f.service] ?? f.service) && e.operation === f.operation),
  );
  if (unmatched.length > 0)
    line += ` No call reached ${unmatched.map((f) => `${f.service}:${f.operation}`).join(", ")}.`;
  return line;
};
