import { type ClusterConfig, type ConfigIssue, InvalidConfigError, type ServiceKind } from "@k3sinfra/core";
import { awsCall, type CallContext } from "../call.js";
import type { AwsClients } from "../clients.js";
import type { AwsOptions } from "../options.js";
import { certificateCheck } from "./certificate.js";
import { computeCheck, imageCheck } from "./compute.js";
import { datastoreCheck } from "./datastore.js";
import { dnsZoneCheck } from "./dns.js";

/** What every check reads. */
export interface PreflightContext {
  readonly clients: AwsClients;
  readonly config: ClusterConfig;
  readonly options: AwsOptions;
  readonly roles: readonly ServiceKind[];
  readonly call: CallContext;
  /** The command about to mutate; `destroy` checks the credentials only. */
  readonly operation?: "up" | "destroy" | undefined;
}

/** One read-only check: the config path it answers for, and the issues it finds (none: fine). */
export interface PreflightCheck {
  /** Where an error that stops the check itself is reported (e.g. a missing IAM permission). */
  readonly path: string;
  run(ctx: PreflightContext): Promise<ConfigIssue[]>;
}

/** The checks this cluster's roles call for, besides the credentials. */
const checksFor = (ctx: PreflightContext): PreflightCheck[] => {
  // What only creation needs (a type still offered, a certificate still valid) must not block a teardown.
  if (ctx.operation === "destroy") return [];
  const checks: PreflightCheck[] = [];
  if (ctx.roles.some((r) => r !== "dns")) checks.push(computeCheck);
  if (ctx.roles.includes("nodes")) checks.push(imageCheck);
  if (ctx.roles.includes("datastore")) checks.push(datastoreCheck);
  if (ctx.roles.includes("loadBalancer") && ctx.config.loadBalancer.mode === "l7")
    checks.push(certificateCheck);
  if (ctx.roles.includes("dns")) checks.push(dnsZoneCheck);
  return checks;
};

/**
 * The AWS preflight: read-only calls, all in parallel, before the first mutating call of `up` or `destroy`.
 * Credentials come first in importance: when STS refuses them, that error alone is thrown (every other answer
 * would be the same refusal). Otherwise every issue found is thrown together in one `InvalidConfigError`,
 * each naming its config path and what to do; a check that could not run (a missing read permission, an
 * outage) is listed beside them, or thrown as is when it is the only problem.
 */
export async function awsPreflight(ctx: PreflightContext): Promise<void> {
  const identity = (async () => {
    const sts = await ctx.clients.sts();
    // GetCallerIdentity needs no permission: it fails only for credentials AWS does not accept
    // (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
    await awsCall("STS GetCallerIdentity", ctx.call, (o) => sts.getCallerIdentity({}, o));
  })();
  const checks = checksFor(ctx);
  const [who, ...results] = await Promise.allSettled([identity, ...checks.map((c) => c.run(ctx))]);
  if (who?.status === "rejected") throw who.reason;
  const issues: ConfigIssue[] = [];
  const failures: { path: string; error: unknown }[] = [];
  results.forEach((r, i) => {
    if (r.status === "fulfilled") issues.push(...r.value);
    else failures.push({ path: checks[i]!.path, error: r.reason });
  });
  if (issues.length === 0 && failures[0]) throw failures[0].error;
  if (issues.length === 0) return;
  throw new InvalidConfigError([
    ...issues,
    ...failures.map(({ path, error }) => ({
      path,
      message: `could not be checked: ${error instanceof Error ? error.message : String(error)}`,
    })),
  ]);
}
