import type { DependencyContainer } from "tsyringe";
import type { ApplyOptions, Plan, ProgressEvent } from "../api/types.js";
import type { ResolvedConfig } from "../config/resolve.js";
import type { StateStore } from "../state/types.js";
import { token } from "../tokens.js";
import type { PollPolicy } from "../wait.js";

/** The config after provider checks. */
export const ResolvedConfigToken = token<ResolvedConfig>("ResolvedConfig");
/** Where this cluster's state lives. */
export const StateStoreToken = token<StateStore>("StateStore");
/** The cluster's own container, for services resolved on demand (a DNS-only cluster has no node service). */
export const ClusterContainerToken = token<DependencyContainer>("ClusterContainer");

/** How a command runs: events, cancellation, limits. */
export interface RunSettings {
  readonly onEvent: (event: ProgressEvent) => void;
  readonly signal: AbortSignal;
  readonly poll: PollPolicy;
  readonly parallelism: number;
  readonly timeouts: NonNullable<ApplyOptions["timeouts"]>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Asked with the plan, under the lock, before any change; `false` cancels. */
  readonly confirm?: ((plan: Plan) => Promise<boolean>) | undefined;
  readonly datastoreAddress: (endpoint: { host: string; port: number }) => { host: string; port: number };
  /** Whether `up` waits for every server to be healthy behind the load balancer (default true). */
  readonly wait?: boolean | undefined;
}
export const RunSettingsToken = token<RunSettings>("RunSettings");
