import type { InventoryItem } from "../types.js";
import type { AwsCloud, QueryOp } from "./index.js";
export interface ElbRegion {
  x?: number;
}
export class Elbv2Service {
  constructor(readonly cloud: AwsCloud) {}
  ops: Record<string, QueryOp> = {};
  inventory(_now: number): InventoryItem[] {
    return [];
  }
  subnetInUse(_r: string, _s: string, _n: number): boolean {
    return false;
  }
  groupInUse(_r: string, _g: string, _n: number): boolean {
    return false;
  }
}
