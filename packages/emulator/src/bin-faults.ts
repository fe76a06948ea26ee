/**
 * The bin's fault options (`--throttle`, `--5xx`, `--latency`, `--fail`, `--seed`) as `FaultSpec`s: the same
 * faults, the same way, as the CLI's `--emulate-throttle`, `--emulate-5xx`, `--emulate-latency` and
 * `--emulate-fail`. The parsing is faults.ts's; this module words its errors with the bin's option names.
 */
import {
  FAULT_KINDS,
  FAULT_SERVICES,
  FaultParseError,
  faultSpecsOf,
  type OperationFault,
  parseLatency,
  parseOperationFault,
  parseRate,
  parseSeed,
} from "./faults.js";
import type { FaultSpec } from "./types.js";

export { FAULT_SERVICES } from "./faults.js";

/** The fault options as `parseArgs` returns them (strings; `fail` repeatable). */
export interface FaultArgs {
  throttle?: string | undefined;
  "5xx"?: string | undefined;
  latency?: string | undefined;
  fail?: string[] | undefined;
}

/** A bad option value; the message names the option. */
export class FaultArgError extends Error {}

/** Runs a parser of faults.ts, its error worded for the bin's option. */
const worded = <T>(parse: () => T, say: (e: FaultParseError) => string): T => {
  try {
    return parse();
  } catch (err) {
    if (err instanceof FaultParseError) throw new FaultArgError(say(err));
    throw err;
  }
};

const rate = (option: string, raw: string): number =>
  worded(
    () => parseRate(raw),
    () => `${option} must be a share of calls from 0 to 1, e.g. 0.2; got "${raw}"`,
  );

/** `--seed <n>`: a non-negative integer. */
export const parseSeedArg = (raw: string): number =>
  worded(
    () => parseSeed(raw),
    () => `--seed must be a non-negative integer, got "${raw}"`,
  );

const parseFail = (raw: string): OperationFault =>
  worded(
    () => parseOperationFault(raw),
    (e) =>
      e.problem === "service"
        ? `--fail: unknown service "${e.value}"; one of ${FAULT_SERVICES.join(", ")}`
        : e.problem === "kind"
          ? `--fail: unknown fault "${e.value}"; one of ${FAULT_KINDS.join(", ")}`
          : `--fail must be <service>:<Operation>[=<kind>], e.g. ec2:RunInstances=error500; got "${raw}"`,
  );

/** `<service>:<Operation>[=<kind>]` (kind default error500). */
export const parseFailArg = (raw: string): FaultSpec => parseFail(raw);

/** The faults for these options, in faults.ts's order (named operations first); rates of 0 add nothing. */
export const faultsFromArgs = (args: FaultArgs): FaultSpec[] => {
  const fail = (args.fail ?? []).map(parseFail);
  const throttle = args.throttle === undefined ? undefined : rate("--throttle", args.throttle);
  const fiveXx = args["5xx"] === undefined ? undefined : rate("--5xx", args["5xx"]);
  const raw = args.latency;
  const latency =
    raw === undefined
      ? undefined
      : worded(
          () => parseLatency(raw),
          (e) =>
            e.problem === "latency-rate"
              ? `--latency's rate must be a share of calls from 0 to 1, e.g. 0.2; got "${e.value}"`
              : `--latency must be <ms>[:<rate>] with ms 0 to 600000, e.g. 250 or 1000:0.1; got "${raw}"`,
        );
  return faultSpecsOf({ fail, throttle, fiveXx, latency });
};
