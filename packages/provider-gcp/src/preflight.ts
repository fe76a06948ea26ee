import { type ConfigIssue, InvalidConfigError, type ProviderContext } from "@k3sinfra/core";
import { gcpCall, ONE_ATTEMPT } from "./call.js";
import type { GcpClients } from "./clients.js";
import { httpStatusOf } from "./errors.js";
import type { GcpOptions } from "./options.js";
import { imageFor } from "./sizing.js";

/** The peering private services access makes (https://cloud.google.com/vpc/docs/configure-private-services-access). */
const PSA_PEERING = "servicenetworking-googleapis-com";

/**
 * Read-only checks before anything is created, every problem reported together: the credentials work in the
 * project, the network exists, the zones exist, the nodes' image family resolves, and (when this cluster's
 * datastore is Cloud SQL) the network has private services access, which a private IP
 * needs (https://cloud.google.com/sql/docs/mysql/configure-private-services-access). A destroy checks only the
 * credentials.
 */
export async function gcpPreflight(
  clients: GcpClients,
  ctx: ProviderContext<GcpOptions>,
  signal: AbortSignal,
): Promise<void> {
  const call = { signal };
  const project = await clients.project();
  const name = ctx.options.network ?? "default";
  const networks = await clients.compute("NetworksClient");
  let network: { peerings?: { name?: string | null; state?: string | null }[] | null };
  try {
    [network] = await gcpCall(`Compute networks.get (${name})`, call, () =>
      networks.get({ project, network: name }, ONE_ATTEMPT),
    );
  } catch (error) {
    if (httpStatusOf(error) !== 404) throw error;
    if (ctx.operation === "destroy") return;
    throw new InvalidConfigError([
      {
        path: "options.gcp.network",
        message: `project ${project} has no VPC network '${name}': create it, or name an existing one`,
      },
    ]);
  }
  if (ctx.operation === "destroy") return;
  const issues: ConfigIssue[] = [];
  const zones = await clients.compute("ZonesClient");
  for (const zone of ctx.config.zones ?? []) {
    try {
      await gcpCall(`Compute zones.get (${zone})`, call, () => zones.get({ project, zone }, ONE_ATTEMPT));
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
      issues.push({
        path: "zones",
        message: `${zone} is not a zone of project ${project}: choose zones of ${ctx.config.region}`,
      });
    }
  }
  if (ctx.roles.includes("nodes")) {
    const image = ctx.options.image ?? imageFor(ctx.config.nodes?.image ?? "ubuntu-24.04");
    const family = /^projects\/([^/]+)\/global\/images\/family\/([^/]+)$/.exec(image);
    if (family) {
      const images = await clients.compute("ImagesClient");
      try {
        await gcpCall(`Compute images.getFromFamily (${family[2]})`, call, () =>
          images.getFromFamily({ project: family[1], family: family[2] }, ONE_ATTEMPT),
        );
      } catch (error) {
        if (httpStatusOf(error) !== 404) throw error;
        issues.push({
          path: ctx.options.image ? "options.gcp.image" : "nodes.image",
          message: `no image family '${family[2]}' in project ${family[1]}: name an existing family or image`,
        });
      }
    }
  }
  const peered = (network.peerings ?? []).some((p) => p.name === PSA_PEERING && p.state === "ACTIVE");
  if (ctx.roles.includes("datastore") && !peered)
    issues.push({
      path: "options.gcp.network",
      message:
        `network '${name}' has no private services access, which Cloud SQL needs for a private IP: allocate a range and connect it — ` +
        `gcloud compute addresses create google-managed-services-${name} --global --purpose=VPC_PEERING --prefix-length=16 --network=${name} --project=${project}; ` +
        `gcloud services vpc-peerings connect --service=servicenetworking.googleapis.com --ranges=google-managed-services-${name} --network=${name} --project=${project}`,
    });
  if (issues.length > 0) throw new InvalidConfigError(issues);
}
