import { createHash } from "node:crypto";
import type { ResourceContext } from "@k3sinfra/core";
import { gcpCall } from "../call.js";
import type { GcpClients } from "../clients.js";
import { httpStatusOf } from "../errors.js";
import { describeOwned, hasLabels, markerLabels } from "../labels.js";

/**
 * The service account id of a cluster's nodes: 6–30 lowercase letters, digits and hyphens, starting with a
 * letter (https://cloud.google.com/iam/docs/service-accounts-create#creating); long cluster names keep a hash.
 */
export function nodeAccountId(cluster: string): string {
  const base = `k3s-${cluster}`;
  if (base.length < 6) return `${base}-nodes`;
  if (base.length <= 30) return base;
  const hash = createHash("sha256").update(cluster).digest("hex").slice(0, 8);
  return `${base.slice(0, 21).replace(/-+$/, "")}-${hash}`;
}

export const nodeAccountEmail = (cluster: string, project: string): string =>
  `${nodeAccountId(cluster)}@${project}.iam.gserviceaccount.com`;

interface Account {
  email?: string;
  description?: string;
}

/**
 * The nodes' identity: one service account per cluster, with no project role. What it may do is granted on
 * each of the cluster's secrets (secrets.ts), so a node reads its own cluster's secrets and nothing else.
 */
export class GcpNodeIdentity {
  constructor(private readonly clients: GcpClients) {}

  async #get(email: string, ctx: ResourceContext): Promise<Account | undefined> {
    const project = await this.clients.project();
    try {
      return await gcpCall(`IAM serviceAccounts.get (${email})`, ctx, () =>
        this.clients.rest<Account>(
          "iam.googleapis.com",
          `/v1/projects/${project}/serviceAccounts/${encodeURIComponent(email)}`,
        ),
      );
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Makes (or adopts) the account; returns its email. */
  async ensure(ctx: ResourceContext): Promise<string> {
    const project = await this.clients.project();
    const email = nodeAccountEmail(ctx.cluster, project);
    if (await this.#get(email, ctx)) return email;
    try {
      await gcpCall(`IAM serviceAccounts.create (${nodeAccountId(ctx.cluster)})`, ctx, () =>
        this.clients.rest("iam.googleapis.com", `/v1/projects/${project}/serviceAccounts`, {
          method: "POST",
          data: {
            accountId: nodeAccountId(ctx.cluster),
            serviceAccount: {
              displayName: `k3sinfra ${ctx.cluster} nodes`,
              // Service accounts have no labels: the ownership marker is in the description.
              description: describeOwned(`K3s servers of k3sinfra cluster ${ctx.cluster}`, {
                "k3sinfra:cluster": ctx.cluster,
                "k3sinfra:managed-by": "k3sinfra",
              }),
            },
          },
        }),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 409) throw error;
    }
    return email;
  }

  async exists(email: string, ctx: ResourceContext): Promise<boolean> {
    return (await this.#get(email, ctx)) !== undefined;
  }

  /** Deletes the account when it is this cluster's; a missing one is fine. */
  async delete(ctx: ResourceContext): Promise<void> {
    const project = await this.clients.project();
    const email = nodeAccountEmail(ctx.cluster, project);
    const found = await this.#get(email, ctx);
    if (!found || !hasLabels(markerLabels(found.description), { "k3sinfra:cluster": ctx.cluster })) return;
    try {
      await gcpCall(`IAM serviceAccounts.delete (${email})`, ctx, () =>
        this.clients.rest(
          "iam.googleapis.com",
          `/v1/projects/${project}/serviceAccounts/${encodeURIComponent(email)}`,
          {
            method: "DELETE",
          },
        ),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
    }
  }
}
