import type { InventoryItem } from "../types.js";
import type { AwsCloud, QueryOp } from "./index.js";
export interface RdsRegion {
  x?: number;
}
export class RdsService {
  constructor(readonly cloud: AwsCloud) {}
  ops: Record<string, QueryOp> = {};
  async init(): Promise<void> {}
  async close(): Promise<void> {}
  inventory(_now: number): InventoryItem[] {
    return [];
  }
  subnetInUse(_r: string, _s: string): boolean {
    return false;
  }
  groupInUse(_r: string, _g: string, _n: number): boolean {
    return false;
  }
}
