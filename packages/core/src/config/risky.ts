import type { ProviderCapabilities } from "../capabilities.js";
import type { ConfigIssue } from "../errors.js";
import type { ClusterConfig } from "./schema.js";

/** How long before a datastore version's end of support `plan` starts saying so. */
const END_OF_SUPPORT_NOTICE_DAYS = 180;
const DAY_MS = 24 * 60 * 60 * 1000;

const WORLD = new Set(["0.0.0.0/0", "::/0"]);

/**
 * Choices that are valid but expose or endanger the cluster: warnings in `plan` and as events, and errors
 * with `--strict` (`strict: true`). Each names its config path and what to do instead. `now` is a parameter
 * so the end-of-support check is testable without a clock.
 */
export function riskyChoices(
  config: ClusterConfig,
  caps: ProviderCapabilities,
  now: Date = new Date(),
): ConfigIssue[] {
  const risks: ConfigIssue[] = [];
  const world = config.nodes.adminCidrs.findIndex((c) => WORLD.has(c));
  if (world >= 0) {
    const ports = config.nodes.sshKeyName ? "the K3s API (6443) and SSH (22)" : "the K3s API (6443)";
    risks.push({
      path: `nodes.adminCidrs[${world}]`,
      message: `${config.nodes.adminCidrs[world]} opens ${ports} on every node to the whole internet: list only your own address ranges (e.g. 203.0.113.0/24)`,
    });
    if (config.nodes.sshKeyName)
      risks.push({
        path: "nodes.sshKeyName",
        message: `SSH (22) is open to the whole internet through nodes.adminCidrs ${config.nodes.adminCidrs[world]}: narrow adminCidrs, or remove sshKeyName and reach the nodes another way`,
      });
  }
  if (!config.datastore.deletionProtection)
    risks.push({
      path: "datastore.deletionProtection",
      message:
        "is off: one `destroy` (or a mistaken delete in the console) loses the database that holds the whole cluster; keep it true for a cluster you care about",
    });
  const engine = caps.datastoreEngines?.find((e) => e.engine === config.datastore.engine);
  const end = engine?.endOfSupport?.[config.datastore.version];
  if (end) {
    const days = Math.floor((Date.parse(`${end}T23:59:59Z`) - now.getTime()) / DAY_MS);
    const newer = engine?.versions.filter((v) => v !== config.datastore.version && !engine.endOfSupport?.[v]);
    const instead = newer && newer.length > 0 ? `use ${newer.join(" or ")}` : "plan an upgrade";
    if (days < 0)
      risks.push({
        path: "datastore.version",
        message: `${config.datastore.engine} ${config.datastore.version} left the cloud's standard support on ${end} (extended support costs extra, then upgrades are forced): ${instead}`,
      });
    else if (days <= END_OF_SUPPORT_NOTICE_DAYS)
      risks.push({
        path: "datastore.version",
        message: `${config.datastore.engine} ${config.datastore.version} leaves the cloud's standard support on ${end}, in ${days} days: ${instead}`,
      });
  }
  return risks;
}
