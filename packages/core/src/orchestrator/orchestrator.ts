import { type DependencyContainer, inject, injectable } from "tsyringe";
import type { DestroyResult, KubeconfigResult, Plan, StatusReport, UpResult } from "../api/types.js";
import type { ResolvedConfig } from "../config/resolve.js";
import type { StateStore } from "../state/types.js";
import { type PlanOptions, planCluster, upCluster } from "./apply.js";
import { destroyCluster, destroyPlan } from "./destroy.js";
import { fetchKubeconfig } from "./kubeconfig.js";
import { statusReport } from "./refresh.js";
import { ClusterRun } from "./run.js";
import {
  ClusterContainerToken,
  ResolvedConfigToken,
  type RunSettings,
  RunSettingsToken,
  StateStoreToken,
} from "./tokens.js";

export type { PlanOptions } from "./apply.js";
export { generateSecrets } from "./secrets.js";

/**
 * Plans and applies one cluster. Each phase lives in its own module: refresh (read the cloud, compare),
 * plan, apply (with rolling node replacement), destroy (with the sweep); this class is their public face.
 */
@injectable()
export class Orchestrator {
  readonly #run: ClusterRun;

  constructor(
    @inject(ResolvedConfigToken) resolved: ResolvedConfig,
    @inject(StateStoreToken) store: StateStore,
    @inject(RunSettingsToken) run: RunSettings,
    @inject(ClusterContainerToken) container: DependencyContainer,
  ) {
    this.#run = new ClusterRun(resolved, store, run, container);
  }

  /**
   * What `up` would do. Takes no lock and changes nothing; reads every recorded resource from the cloud
   * first unless `refresh` is false.
   */
  async plan(options: PlanOptions = {}): Promise<Plan> {
    const state = await this.#run.readState();
    const { byId: _, ...plan } = (await planCluster(this.#run, state, options)).plan;
    return plan;
  }

  /** What `destroy` would delete, from the state alone: no cloud call, no lock, no secret read. */
  async destroyPlan(): Promise<Plan> {
    return destroyPlan(this.#run.config.name, await this.#run.readState({ secrets: false }));
  }

  /** Creates or converges the cluster, then records and returns the outputs. */
  up(options: PlanOptions = {}): Promise<UpResult> {
    return upCluster(this.#run, options);
  }

  /** Deletes everything in state in reverse dependency order, then sweeps whatever still carries the cluster's tags. */
  destroy(options: { allowProtected?: boolean } = {}): Promise<DestroyResult> {
    return destroyCluster(this.#run, options);
  }

  /** Fetches the kubeconfig the first server stored, points it at a reachable address, writes it 0600. */
  kubeconfig(path: string): Promise<KubeconfigResult> {
    return fetchKubeconfig(this.#run, path);
  }

  /** Reads every recorded resource and reports drift. Never writes state: a failed read is `unknown`, not gone. */
  status(): Promise<StatusReport> {
    return statusReport(this.#run);
  }
}
