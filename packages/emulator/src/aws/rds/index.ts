/**
 * Amazon RDS as the AWS cloud wires it: the service, its operations assembled from one module per
 * responsibility, and its inventory.
 */
import type { InventoryItem } from "../../types.js";
import type { QueryOp } from "../kernel/call.js";
import { instanceOps } from "./instances.js";
import type { RdsService } from "./service.js";
import { subnetGroupOps } from "./subnet-groups.js";

export { RdsService } from "./service.js";

export const rdsOps = (svc: RdsService): Record<string, QueryOp> => ({
  ...svc.parameterGroups.ops,
  ...subnetGroupOps(svc),
  ...instanceOps(svc),
});

/** DB subnet groups, parameter groups and DB instances not yet gone (with their MariaDB proxy, if any). */
export function rdsInventory(svc: RdsService, now: number): InventoryItem[] {
  const out: InventoryItem[] = [];
  for (const region of Object.keys(svc.regions())) {
    const r = svc.region(region);
    for (const g of Object.values(r.subnetGroups)) {
      out.push({
        cloud: "aws",
        service: "rds",
        region,
        type: "db-subnet-group",
        id: g.name,
        name: g.name,
        state: "Complete",
        tags: { ...g.tags },
      });
    }
    out.push(...svc.parameterGroups.inventory(region));
    for (const db of svc.live(region, now)) {
      const item: InventoryItem = {
        cloud: "aws",
        service: "rds",
        region,
        type: "db-instance",
        id: db.id,
        name: db.id,
        state: svc.status(db, now),
        tags: { ...db.tags },
      };
      if (db.connectPort !== undefined) item.connect = { host: "127.0.0.1", port: db.connectPort };
      out.push(item);
    }
  }
  return out;
}
