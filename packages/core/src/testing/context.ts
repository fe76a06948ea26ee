import { randomUUID } from "node:crypto";
import { idempotencyToken, physicalName, resourceTags } from "../naming.js";
import type { ResourceContext } from "../resources/common.js";
import type { PollPolicy } from "../wait.js";

/** Builds the context the orchestrator would pass, for driving a service directly in tests. */
export function makeContext(args: {
  cluster: string;
  resource: string;
  region: string;
  lineage?: string;
  generation?: number;
  poll?: PollPolicy;
  signal?: AbortSignal;
  onReport?: (message: string) => void;
}): ResourceContext {
  return {
    cluster: args.cluster,
    resource: args.resource,
    name: physicalName(args.cluster, args.resource),
    tags: resourceTags(args.cluster, args.resource),
    idempotencyToken: idempotencyToken(args.lineage ?? randomUUID(), args.resource, args.generation ?? 0),
    region: args.region,
    signal: args.signal ?? new AbortController().signal,
    poll: args.poll ?? { minDelayMs: 5, maxDelayMs: 50 },
    report: args.onReport ?? (() => undefined),
  };
}
