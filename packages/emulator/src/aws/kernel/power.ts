/**
 * The power state of an EC2 instance, derived lazily from its timestamps: EC2 answers with it, and the load
 * balancer's target health, the boot timeline and the instance metadata service read it.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html
 */
import { phase } from "./common.js";
import { AWS_DURATIONS } from "./durations.js";

/** Seconds at time scale 1. */
export const POWER_DURATIONS = {
  pending: AWS_DURATIONS.ec2.pending,
  stopping: AWS_DURATIONS.ec2.stopping,
  shuttingDown: AWS_DURATIONS.ec2.shuttingDown,
};

/** The last stop or start asked of an instance; `publicIp`: it had a public IPv4 when stopped. */
export interface PowerChange {
  action: "stop" | "start";
  at: number;
  publicIp?: boolean;
}

/** The fields of an instance the power state is derived from. */
export interface Powered {
  id: string;
  launchedAt: number;
  terminatedAt?: number;
  power?: PowerChange;
  publicIp?: string | undefined;
}

/** pending → running; stop: stopping → stopped; start: pending → running; terminate: shutting-down → terminated. */
export function powerState(i: Powered, now: number, scale: number): string {
  if (i.terminatedAt !== undefined)
    return phase(now, i.terminatedAt, scale, [["shutting-down", POWER_DURATIONS.shuttingDown]], "terminated");
  if (i.power?.action === "stop")
    return phase(now, i.power.at, scale, [["stopping", POWER_DURATIONS.stopping]], "stopped");
  return phase(now, lastStart(i), scale, [["pending", POWER_DURATIONS.pending]], "running");
}

/** When the instance last started (LaunchTime is the last start, not the first launch). */
export function lastStart(i: Powered): number {
  return i.power?.action === "start" ? i.power.at : i.launchedAt;
}
