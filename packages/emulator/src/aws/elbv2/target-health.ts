/**
 * ELBv2 target health of a registered instance on a running instance, derived lazily from timestamps,
 * and the test back door that makes one instance's health checks fail (a node whose K3s/Traefik never
 * comes up). States and reason codes:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html
 */

import type { HealthOverride } from "../kernel/shapes.js";

export type { HealthOverride };

/** What `setTargetHealth` accepts: fail the checks, or let them follow the instance again. */
export type HealthMode = "unhealthy" | "auto";

export function setHealthOverride(i: { health?: HealthOverride }, mode: HealthMode, now: number): void {
  if (mode === "unhealthy") {
    if (!i.health || i.health.recoveredAt !== undefined) i.health = { failingSince: now };
  } else if (i.health && i.health.recoveredAt === undefined) {
    i.health.recoveredAt = now;
  }
}

export interface TargetHealthOut {
  State: string;
  Reason?: string;
  Description?: string;
}

/** When checks run and how many it takes to change state (the target group's settings). */
export interface CheckTiming {
  /** When checks start counting: registration, LB active or listener created, whichever is last. */
  start: number;
  now: number;
  scale: number;
  intervalSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

const UNHEALTHY: TargetHealthOut = {
  State: "unhealthy",
  Reason: "Target.FailedHealthChecks",
  Description: "Health checks failed",
};

const INITIAL: TargetHealthOut = {
  State: "initial",
  Reason: "Elb.RegistrationInProgress",
  Description: "Target registration is in progress",
};

/**
 * `initial` until `healthyThreshold` checks passed, then `healthy`. Failing checks turn the target
 * `unhealthy` after `unhealthyThreshold` of them; once they pass again it takes `healthyThreshold`
 * checks to be `healthy`. `servingFrom`: when the instance starts answering at all (a k3sinfra server once its
 * K3s is ready, boot/timeline.ts; `Infinity` not yet); before, its checks fail like the back door's.
 */
export function checkedHealth(
  t: CheckTiming,
  override?: HealthOverride,
  servingFrom = Number.NEGATIVE_INFINITY,
): TargetHealthOut {
  const checks = (n: number): number => n * t.intervalSeconds * 1000 * t.scale;
  if (override) {
    const failedAt = Math.max(t.start, override.failingSince) + checks(t.unhealthyThreshold);
    const recovered = override.recoveredAt;
    if (recovered === undefined) {
      if (t.now >= failedAt) return UNHEALTHY;
    } else if (failedAt <= recovered && t.now < recovered + checks(t.healthyThreshold)) {
      return UNHEALTHY;
    }
  }
  if (servingFrom > t.start) {
    // Checks fail from the start until it serves: `unhealthy` once `unhealthyThreshold` of them failed.
    const failed = Math.min(t.now, servingFrom) >= t.start + checks(t.unhealthyThreshold);
    if (t.now < servingFrom + checks(t.healthyThreshold)) return failed ? UNHEALTHY : INITIAL;
    return { State: "healthy" };
  }
  if (t.now < t.start + checks(t.healthyThreshold)) return INITIAL;
  return { State: "healthy" };
}

/** A deregistered target stays `draining` for the group's deregistration delay, then it is gone. */
export function drained(
  t: { deregisteredAt?: number },
  attributes: Record<string, string>,
  now: number,
  scale: number,
): boolean {
  if (t.deregisteredAt === undefined) return false;
  const delay = Number(attributes["deregistration_delay.timeout_seconds"] ?? "300");
  return now >= t.deregisteredAt + delay * 1000 * scale;
}
