import { NetworkService, type NetworkState } from "../../resources/network.js";
import { hash, replacedReason, serviceHandler, str } from "./shared.js";
import type { KindDescription } from "./types.js";

/** The VPC (or the cloud's equivalent), its subnets and the firewall groups: what everything else sits in. */
export const network: KindDescription<NetworkState> = {
  role: "compute",
  dependsOn: [],
  ids: () => ["network"],
  timeoutMs: 10 * 60_000,
  // A VPC, subnets and security groups are ready when the calls return (a few seconds of calls).
  expectedSeconds: { create: 10, delete: 10 },
  deleteRank: 2,
  label: "the network",
  sweeps: true,
  updatable: (run) => run.container.resolve(NetworkService).updatable,
  canRepair: (run) => run.container.resolve(NetworkService).update !== undefined,
  inputs: (builder): Record<string, string> => {
    const s = builder.networkSpec();
    return { zones: str(s.zones), rules: hash(str(s.rules)) };
  },
  handler: (run) => {
    const builder = run.builder();
    return serviceHandler(run.container.resolve(NetworkService), () => builder.networkSpec());
  },
  deposedReason: replacedReason,
};
