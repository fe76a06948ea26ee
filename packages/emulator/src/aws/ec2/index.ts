/**
 * Amazon EC2 as the AWS cloud wires it: the service (service.ts), its operations assembled from one module per
 * responsibility, and its inventory.
 */
import type { InventoryItem } from "../../types.js";
import type { QueryOp } from "../kernel/call.js";
import { instanceIamOps } from "./iam.js";
import { imagesOps } from "./images.js";
import { powerOps } from "./instance-state.js";
import { instancesOps } from "./instances.js";
import { networkOps } from "./network.js";
import { offeringOps } from "./offerings.js";
import { securityGroupOps } from "./security-groups.js";
import type { Ec2Service } from "./service.js";
import { tagsOps } from "./tags.js";

export { Ec2Service } from "./service.js";

/** Every EC2 operation the emulator answers (GetConsoleOutput comes from boot/, wired in aws/index.ts). */
export const ec2Ops = (svc: Ec2Service): Record<string, QueryOp> => ({
  ...powerOps(svc),
  ...networkOps(svc),
  ...securityGroupOps(svc),
  ...tagsOps(svc),
  ...imagesOps(),
  ...instancesOps(svc),
  ...offeringOps(),
  ...instanceIamOps(svc),
});

/** VPCs, subnets, security groups and instances not yet terminated; seeded defaults only when asked. */
export function ec2Inventory(svc: Ec2Service, includeDefaults: boolean, now: number): InventoryItem[] {
  const out: InventoryItem[] = [];
  for (const [region, r] of Object.entries(svc.regions())) {
    const base = { cloud: "aws", service: "ec2", region };
    for (const v of Object.values(r.vpcs)) {
      if (includeDefaults || !v.seeded)
        out.push({
          ...base,
          type: "vpc",
          id: v.id,
          name: v.tags.Name,
          state: "available",
          tags: { ...v.tags },
        });
    }
    for (const s of Object.values(r.subnets)) {
      if (includeDefaults || !s.seeded)
        out.push({
          ...base,
          type: "subnet",
          id: s.id,
          name: s.tags.Name,
          state: "available",
          tags: { ...s.tags },
        });
    }
    for (const g of Object.values(r.groups)) {
      if (includeDefaults || g.name !== "default") {
        out.push({
          ...base,
          type: "security-group",
          id: g.id,
          name: g.name,
          state: "available",
          tags: { ...g.tags },
        });
      }
    }
    for (const i of Object.values(r.instances)) {
      const state = svc.instanceState(i, now);
      if (state === "terminated") continue;
      out.push({ ...base, type: "instance", id: i.id, name: i.tags.Name, state, tags: { ...i.tags } });
    }
  }
  return out;
}
