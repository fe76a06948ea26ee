import type { ClusterConfigInput } from "../config/schema.js";
import type { ProviderRegistry } from "../registry.js";
import type { ResourceKind, StateStore } from "../state/types.js";
import type { PollPolicy } from "../wait.js";

/** What a plan intends for one resource. */
export type ChangeAction = "create" | "update" | "replace" | "delete" | "no-op";

/** One planned change, with the reason a user can read. */
export interface PlannedChange {
  /** Graph id, e.g. `node-1`. */
  readonly resource: string;
  /** Service kind. */
  readonly kind: ResourceKind;
  readonly action: ChangeAction;
  /** Why, e.g. `not in state`, `diskGiB changed (50 → 80): replace`, `up to date`. */
  readonly reason: string;
  /** Spec fields that differ, for update and replace. */
  readonly fields?: readonly string[];
  /** Set when refresh found the live object changed (`changed`) or gone (`missing`) outside k3sinfra. */
  readonly drift?: "changed" | "missing";
  /** Graph ids this resource waits for. */
  readonly dependsOn: readonly string[];
}

/** A plan: what `up` would do, in dependency order. */
export interface Plan {
  readonly cluster: string;
  readonly changes: readonly PlannedChange[];
  /** Things the user should know that do not stop the plan. */
  readonly warnings: readonly string[];
  /**
   * What the user must do outside k3sinfra for the plan to work, e.g. the firewall rules a provider that cannot
   * own a firewall (`capabilities.firewall: "external"`) needs opened. Absent when there is nothing.
   */
  readonly notes?: readonly string[];
  /** True when `up` would change nothing. */
  readonly empty: boolean;
}

/** Typed progress events, emitted by every command for library users; the CLI renders them. */
export type ProgressEvent =
  | { readonly type: "plan"; readonly plan: Plan }
  | {
      readonly type: "resource";
      readonly resource: string;
      readonly action: ChangeAction | "read" | "sweep";
      readonly phase: "start" | "progress" | "retry" | "done" | "failed" | "skipped";
      /** Human-readable detail; never contains secrets. */
      readonly message?: string;
      /** Time since this resource's start, on `done` and `failed`. */
      readonly elapsedMs?: number;
    }
  | { readonly type: "warning"; readonly message: string }
  /**
   * Something expected the user may want to know, not a problem: e.g. the datastore check skipped because a
   * private datastore does not answer from this machine (node 0 prepares it at boot).
   */
  | { readonly type: "info"; readonly message: string }
  | { readonly type: "done"; readonly command: string; readonly durationMs: number };

/** Options shared by every API call. */
export interface CommandOptions {
  /** Where relative paths in the config (custom providers, state) resolve from. Default: `process.cwd()`. */
  readonly baseDir?: string;
  /** Provider registry; the CLI passes one with the built-ins' loaders. */
  readonly registry?: ProviderRegistry;
  /** State store; default: a local file at `state.path` or `.k3sinfra/<name>.state.json` under baseDir. */
  readonly state?: StateStore;
  /** Receives progress events. */
  readonly onEvent?: (event: ProgressEvent) => void;
  /** Cancels the command; resources in flight stop at their next wait and state keeps what finished. */
  readonly signal?: AbortSignal;
  /** Environment for credentials. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Poll intervals handed to providers. */
  readonly poll?: PollPolicy;
  /**
   * Where this machine reaches the datastore (an SSH tunnel, a port-forward, an emulator's proxy); default:
   * its own host and port. Used only by the readiness check.
   */
  readonly datastoreAddress?: (endpoint: { host: string; port: number }) => { host: string; port: number };
  /**
   * Risky choices in the config (a world-open `nodes.adminCidrs`, SSH open to it, deletion protection off, a
   * datastore version at or near its end of support) are errors (`InvalidConfigError`) instead of warnings,
   * before any cloud call. The CLI's `--strict`.
   */
  readonly strict?: boolean;
}

/** Options for commands that change infrastructure. */
export interface ApplyOptions extends CommandOptions {
  /**
   * Called with the plan once the state lock is held and before anything changes (not when the plan is
   * empty). Resolve `false`, or throw, to stop with nothing changed — as `terraform apply` asks.
   */
  readonly confirm?: (plan: Plan) => Promise<boolean>;
  /** Cloud API calls in flight at once (waits between polls hold none; every ready resource proceeds). Default 4. */
  readonly parallelism?: number;
  /**
   * Per-resource timeout in ms, by kind; defaults fit each cloud's real durations (datastore 60 min).
   * `targets` also bounds how long a replacement server may take to pass the LB's health checks.
   */
  readonly timeouts?: Partial<Record<PlannedChange["kind"], number>>;
  /** Read every recorded resource from the cloud before planning, so drift is repaired. Default true. */
  readonly refresh?: boolean;
  /**
   * Wait, at the end of `up`, until every server is healthy behind the load balancer (K3s up, Traefik
   * answering); a server that never is fails `up` with its boot stage. Default true; `--no-wait` turns it off.
   */
  readonly wait?: boolean;
}

/** Options for `plan`. */
export interface PlanCommandOptions extends CommandOptions {
  /** Read every recorded resource from the cloud first (Terraform's `-refresh`). Default true. */
  readonly refresh?: boolean;
  /** Show what `destroy` would delete instead, from the state alone (no cloud call, no secret read). */
  readonly destroy?: boolean;
  /** Resources read at once while refreshing. Default 4. */
  readonly parallelism?: number;
}

/** Options for `destroy`. */
export interface DestroyOptions extends ApplyOptions {
  /** Turn off the datastore's deletion protection and delete it. Without this, a protected datastore stops destroy. */
  readonly allowProtected?: boolean;
}

/** Options for `outputs`. */
export interface OutputOptions extends CommandOptions {
  /** Put secret values in the result instead of `********`. */
  readonly showSecrets?: boolean;
}

/** What a user can act on once the cluster is up. */
export interface ClusterOutputs {
  readonly cluster: string;
  /** `https://<hostname>`. */
  readonly rancherUrl: string;
  readonly hostname: string;
  readonly loadBalancer: {
    readonly mode: "l4" | "l7";
    readonly hostname?: string;
    readonly ips?: readonly string[];
  };
  readonly nodes: readonly {
    readonly resource: string;
    readonly name: string;
    readonly zone: string;
    readonly privateIp: string;
    readonly publicIp?: string;
  }[];
  readonly datastore: { readonly host: string; readonly port: number; readonly tls: boolean };
  readonly k3s: {
    readonly version: string;
    /** `mysql://user:password@tcp(host:3306)/k3s`; the password is masked unless showSecrets. */
    readonly datastoreEndpoint: string;
    /** Masked unless showSecrets. */
    readonly token: string;
    readonly tlsSan: readonly string[];
    /** `/etc/rancher/k3s/config.yaml` for each server, in start order. */
    readonly servers: readonly { readonly node: string; readonly configYaml: string }[];
  };
  readonly rancher: {
    readonly version: string;
    /** Masked unless showSecrets. */
    readonly bootstrapPassword: string;
    /**
     * With `installedByCluster`: what the first server installs and the commands to watch it; otherwise the
     * shell commands to install it yourself, in order: repos, cert-manager, Rancher.
     */
    readonly installCommands: readonly string[];
    /** Whether the cluster installs Rancher itself (`rancher.install`). */
    readonly installedByCluster?: boolean;
    /** How to fetch a kubeconfig that points at the hostname. */
    readonly kubeconfigCommands: readonly string[];
  };
  /** True when secrets are shown. */
  readonly secretsShown: boolean;
  /** Set when the config was edited since the last `up`: the outputs describe what was applied. */
  readonly notice?: string;
}

/** One resource in a status report. */
export interface ResourceStatus {
  readonly resource: string;
  readonly kind: PlannedChange["kind"];
  /** `ok`: exists as recorded. `drifted`: exists but differs. `missing`: gone. `unknown`: the read failed. */
  readonly status: "ok" | "drifted" | "missing" | "unknown";
  readonly id: string;
  readonly detail?: string;
}

/** Read-only drift report. */
export interface StatusReport {
  readonly cluster: string;
  readonly exists: boolean;
  readonly resources: readonly ResourceStatus[];
  readonly lock?: {
    readonly owner: string;
    readonly operation: string;
    readonly acquiredAt: string;
    readonly id: string;
  };
}

/** What `k3sinfra kubeconfig` wrote. */
export interface KubeconfigResult {
  /** Where the kubeconfig was written (mode 0600). */
  readonly path: string;
  /** The API address it points at. */
  readonly server: string;
  /** `public`: a server's public address (nodes.adminCidrs opens 6443); `tunnel`: 127.0.0.1 through a tunnel. */
  readonly via: "public" | "tunnel";
  /** What to run next (comments start with `#`): the tunnel, if any, then KUBECONFIG and kubectl. */
  readonly commands: readonly string[];
}

/** What `up` did. */
export interface UpResult {
  readonly plan: Plan;
  readonly outputs: ClusterOutputs;
}

/** What `destroy` did. */
export interface DestroyResult {
  /** Graph ids deleted from state. */
  readonly deleted: readonly string[];
  /** Objects found by ownership tags after the state-driven delete, and deleted. */
  readonly swept: readonly { readonly kind: string; readonly id: string }[];
}

/** Where a cluster spec comes from: a path to YAML/JSON, or an object. */
export type ClusterSpec = string | ClusterConfigInput;
