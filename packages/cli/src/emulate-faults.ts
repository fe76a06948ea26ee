/**
 * Faults from the command line: `--emulate-seed`, `--emulate-throttle`, `--emulate-5xx`, `--emulate-latency` and
 * `--emulate-fail` turned into the emulator's `FaultSpec`s, described for the banner, and counted at the end of
 * the run. The values are parsed by the emulator's own parser (`@k3sinfra/emulator/faults`, which loads nothing
 * else of the emulator), as the `k3sinfra-emulator` bin parses its options; here they are worded for commander.
 * Loaded with the program (for its argument parsers), so it imports commander and that parser alone.
 */

import type { FaultSpec, RequestLogEntry } from "@k3sinfra/emulator";
import {
  FaultParseError,
  faultSpecsOf,
  type Latency,
  type OperationFault,
  parseLatency as parseLatencyValue,
  parseOperationFault,
  parseRate as parseRateValue,
  parseSeed as parseSeedValue,
} from "@k3sinfra/emulator/faults";
import { type Command, InvalidArgumentError } from "commander";

export type { OperationFault } from "@k3sinfra/emulator/faults";

/** `--emulate-latency <ms>[:<rate>]`: calls delayed by `ms` real milliseconds, a share `rate` of them. */
export type LatencyFault = Latency;

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

/**
 * The parser's problem in commander's words: InvalidArgumentError makes commander report a usage error (exit 2)
 * naming the option and the value.
 */
const worded = <T>(parse: () => T): T => {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof FaultParseError)) throw error;
    const words: Record<FaultParseError["problem"], string> = {
      seed: "It must be a non-negative integer, e.g. 7.",
      rate: "It must be a share of calls from 0 to 1, e.g. 0.2.",
      latency: "It must be <ms>[:<rate>] with ms 0 to 600000, e.g. 250 or 1000:0.1.",
      "latency-rate": "Its rate (after the colon) must be from 0 to 1, e.g. 1000:0.1.",
      operation:
        "It must be <service>:<Operation>[=<kind>], e.g. ec2:RunInstances or rds:CreateDBInstance=unavailable503.",
      // The parser's own message lists the accepted services and kinds.
      service: `${error.message.replace(/^unknown service "([^"]*)"; one of/, "Unknown service '$1'; one of")}.`,
      kind: `${error.message.replace(/^unknown fault "([^"]*)"; one of/, "Unknown fault '$1'; one of")}.`,
    };
    throw new InvalidArgumentError(words[error.problem]);
  }
};

/** `--emulate-seed <n>`: a non-negative integer. */
export const parseSeed = (raw: string): number => worded(() => parseSeedValue(raw));

/** A share of calls, 0 to 1 (0: none). */
export const parseRate = (raw: string): number => worded(() => parseRateValue(raw));

/** `<ms>[:<rate>]`: e.g. `250` (every call 250 ms later) or `1000:0.1`. */
export const parseLatency = (raw: string): LatencyFault => worded(() => parseLatencyValue(raw));

/** `<service:Operation>[=kind]`, repeatable: collected into a list. */
export const parseFail = (raw: string, previous: readonly OperationFault[] = []): OperationFault[] => [
  ...previous,
  worded(() => parseOperationFault(raw)),
];

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

/** The emulator's faults for these flags (`faultSpecsOf`: named operations first, 5xx shared by 500 and 503). */
export const faultSpecs = (flags: EmulateFaultFlags): FaultSpec[] =>
  faultSpecsOf({
    fail: flags.emulateFail,
    throttle: flags.emulateThrottle,
    fiveXx: flags.emulate5xx,
    latency: flags.emulateLatency,
  });

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
