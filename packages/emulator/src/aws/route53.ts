import type { CloudRequest, RoutedCall } from "../cloud.js";
import type { InventoryItem } from "../types.js";
import type { AwsCloud } from "./index.js";
export interface Route53State {
  zones: Record<string, unknown>;
  changes: Record<string, unknown>;
  callerReferences: Record<string, string>;
}
export class Route53Service {
  constructor(readonly cloud: AwsCloud) {}
  route(_req: CloudRequest): RoutedCall | undefined {
    return undefined;
  }
  seedFixtures(_z: string[]): void {}
  inventory(_d: boolean, _now: number): InventoryItem[] {
    return [];
  }
}
