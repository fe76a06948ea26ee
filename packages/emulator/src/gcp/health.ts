/**
 * Backend health as `backendServices.getHealth` reports it for one instance group: an instance is HEALTHY once
 * its server answers the health check, which for a k3sinfra node is when K3s and Traefik are up — once its boot
 * passed `k3s-ready` on the shared boot timeline (boot-timeline.ts), so a bootstrap failing before that
 * (`failBootstrap`) keeps it UNHEALTHY until the fault clears and systemd's next run gets past it; other
 * instances once they run. `setTargetHealth(…, "unhealthy")` keeps it UNHEALTHY
 * (https://cloud.google.com/compute/docs/reference/rest/v1/regionBackendServices/getHealth).
 */
import type { ComputeCore as Compute } from "./compute-core.js";
import { gcpErrors } from "./errors.js";
import { type ComputeResource, refPath, selfLink } from "./model.js";

type Verb = (r: ComputeResource, body: Record<string, unknown>) => Record<string, unknown>;

export function healthVerbs(c: Compute, unhealthy: () => Set<string>): Record<string, Verb> {
  return {
    getHealth: (bs, body) => {
      const groupPath = refPath(String(body.group ?? ""), bs.project);
      const found = groupPath ? c.find(groupPath) : undefined;
      if (found?.collection !== "instanceGroups") throw gcpErrors.notFound(String(body.group));
      const group = found;
      const backends = (bs.body.backends as { group?: string }[] | undefined) ?? [];
      if (!backends.some((b) => refPath(b.group ?? "", bs.project) === groupPath))
        throw gcpErrors.invalid(`Instance group ${group.name} is not a backend of ${bs.name}.`);
      const rules = Object.values(c.store.compute).filter(
        (o) =>
          o.collection === "forwardingRules" &&
          refPath(String(o.body.backendService ?? ""), bs.project) === bs.path,
      );
      const healthStatus = ((group.body.__members as string[] | undefined) ?? []).flatMap((path) => {
        const inst = c.find(path);
        if (!inst) return [];
        const at = c.healthyFrom(inst);
        const healthy = at !== undefined && c.now >= at && !unhealthy().has(path);
        const nic = (inst.body.networkInterfaces as { networkIP?: string }[] | undefined)?.[0];
        return [
          {
            instance: selfLink(path),
            ipAddress: nic?.networkIP ?? "",
            healthState: healthy ? "HEALTHY" : "UNHEALTHY",
            ...(rules[0]
              ? { forwardingRule: selfLink(rules[0].path), forwardingRuleIp: String(rules[0].body.IPAddress) }
              : {}),
          },
        ];
      });
      return { kind: "compute#backendServiceGroupHealth", healthStatus };
    },
  };
}
