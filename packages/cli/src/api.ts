// The slice of core's programmatic API the CLI uses. Core's implementation is landing concurrently; until its
// exports exist this module binds them by name with the agreed signatures, so the CLI builds either way.

import type {
  ApplyOptions,
  ClusterConfig,
  ClusterConfigInput,
  ClusterOutputs,
  ClusterSpec,
  CommandOptions,
  DestroyOptions,
  DestroyResult,
  OutputOptions,
  Plan,
  StatusReport,
  UpResult,
} from "@k3sinfra/core";
import * as core from "@k3sinfra/core";

/** Core's programmatic API, as the CLI calls it. */
export interface CoreApi {
  loadConfig(spec: ClusterSpec, options?: { baseDir?: string }): Promise<ClusterConfigInput>;
  validateConfig(spec: ClusterSpec, options?: CommandOptions): Promise<ClusterConfig>;
  plan(spec: ClusterSpec, options?: CommandOptions): Promise<Plan>;
  up(spec: ClusterSpec, options?: ApplyOptions): Promise<UpResult>;
  status(spec: ClusterSpec, options?: CommandOptions): Promise<StatusReport>;
  outputs(spec: ClusterSpec, options?: OutputOptions): Promise<ClusterOutputs>;
  destroy(spec: ClusterSpec, options?: DestroyOptions): Promise<DestroyResult>;
  forceUnlock(spec: ClusterSpec, lockId: string, options?: CommandOptions): Promise<void>;
  graph(spec: ClusterSpec, options: CommandOptions & { format: "mermaid" | "dot" }): Promise<string>;
  configJsonSchema(): Record<string, unknown>;
}

const exported = core as unknown as Partial<CoreApi>;

const bind = <K extends keyof CoreApi>(name: K): CoreApi[K] =>
  ((...args: unknown[]) => {
    const fn = exported[name] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof fn !== "function") throw new Error(`@k3sinfra/core does not export ${name}() yet`);
    return fn(...args);
  }) as CoreApi[K];

/** Core's API functions. */
export const api: CoreApi = {
  loadConfig: bind("loadConfig"),
  validateConfig: bind("validateConfig"),
  plan: bind("plan"),
  up: bind("up"),
  status: bind("status"),
  outputs: bind("outputs"),
  destroy: bind("destroy"),
  forceUnlock: bind("forceUnlock"),
  graph: bind("graph"),
  configJsonSchema: bind("configJsonSchema"),
};
