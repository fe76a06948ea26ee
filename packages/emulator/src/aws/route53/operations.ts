/** Every Route 53 operation the emulator answers, by name (protocol.ts routes to them). */
import type { R53Call, R53Result } from "./model.js";
import { recordOps } from "./records.js";
import type { Route53Service } from "./service.js";
import { zoneOps } from "./zones.js";

export const route53Ops = (svc: Route53Service): Record<string, (c: R53Call) => R53Result> => ({
  ...zoneOps(svc),
  ...recordOps(svc),
});
