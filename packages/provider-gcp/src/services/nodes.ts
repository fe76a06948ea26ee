import {
  type NodeService,
  type NodeSpec,
  type NodeState,
  ProviderError,
  type ResourceContext,
  type Tags,
  waitUntil,
} from "@k3sinfra/core";
import { gcpCall, ONE_ATTEMPT } from "../call.js";
import type { GcpClients } from "../clients.js";
import { httpStatusOf, reasonOf } from "../errors.js";
import { hasLabels, toLabels } from "../labels.js";
import { computeOp, insertVerified, requestId } from "../operations.js";
import type { GcpOptions } from "../options.js";
import { imageFor, machineTypeFor } from "../sizing.js";

/** The instance fields read here, as the client decodes them. */
interface Instance {
  id?: string | null;
  name?: string | null;
  zone?: string | null;
  status?: string | null;
  machineType?: string | null;
  labels?: Record<string, string> | null;
  metadata?: {
    fingerprint?: string | null;
    items?: { key?: string | null; value?: string | null }[] | null;
  } | null;
  networkInterfaces?:
    | { networkIP?: string | null; accessConfigs?: { natIP?: string | null }[] | null }[]
    | null;
  selfLink?: string | null;
}

/** Published late values live in instance metadata as `k3sinfra-<key>` (what `GCP_METADATA_READER` reads). */
export const PUBLISH_PREFIX = "k3sinfra-";

const last = (url: string | null | undefined) => (url ?? "").split("/").pop() ?? "";

/** Instance status as the contracts say it: RUNNING is `running`, TERMINATED (stopped) `stopped`. */
const statusOf = (s: string | null | undefined) =>
  s === "TERMINATED" ? "stopped" : (s ?? "unknown").toLowerCase();

const toState = (i: Instance): NodeState => {
  const nic = i.networkInterfaces?.[0];
  const publicIp = nic?.accessConfigs?.[0]?.natIP ?? undefined;
  return {
    id: `projects/${i.selfLink?.split("/projects/")[1] ?? ""}`,
    name: i.name ?? "",
    zone: last(i.zone),
    privateIp: nic?.networkIP ?? "",
    ...(publicIp ? { publicIp } : {}),
    status: statusOf(i.status),
    instanceType: last(i.machineType),
  };
};

/** `projects/p/zones/z/instances/n` → its parts. */
const parts = (id: string) => {
  const m = /^projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/.exec(id);
  if (!m) throw new ProviderError(`'${id}' is not a Compute Engine instance id`);
  return { project: m[1]!, zone: m[2]!, instance: m[3]! };
};

/**
 * K3s servers as Compute Engine instances: Ubuntu 24.04, Shielded VM, the nodes' network tag, ownership labels,
 * user data in the `user-data` metadata key (read by cloud-init's GCE datasource:
 * https://cloudinit.readthedocs.io/en/latest/reference/datasources/gce.html), late values as metadata attributes.
 */
export class GcpNodeService implements NodeService {
  readonly updatable = [] as const satisfies readonly (keyof NodeSpec)[];

  constructor(
    private readonly clients: GcpClients,
    private readonly options: GcpOptions,
  ) {}

  native(): Promise<unknown> {
    return this.clients.compute("InstancesClient");
  }

  async create(spec: NodeSpec, ctx: ResourceContext): Promise<NodeState> {
    const project = await this.clients.project();
    const instances = await this.clients.compute("InstancesClient");
    const zone = spec.zone;
    const existing = await this.#get(project, zone, ctx.name, ctx);
    if (existing && !hasLabels(existing.labels, { "k3sinfra:cluster": ctx.cluster }))
      throw new ProviderError(
        `Not touching instance ${ctx.name} in ${zone}: its labels name another k3sinfra cluster (or none), not '${ctx.cluster}'.`,
      );
    if (!existing) {
      const machineType = spec.instanceType ?? this.options.machineType ?? machineTypeFor(spec.size);
      const labels = toLabels(ctx.tags);
      const what = `Compute instances.insert (${ctx.name})`;
      await insertVerified(
        (attempt) =>
          computeOp(this.clients, what, ctx, () =>
            instances.insert(
              {
                project,
                zone,
                requestId: requestId(ctx.idempotencyToken, `instance#${attempt}`),
                instanceResource: {
                  name: ctx.name,
                  machineType: `zones/${zone}/machineTypes/${machineType}`,
                  labels,
                  tags: { items: [spec.network.groups.nodes] },
                  metadata: { items: [{ key: "user-data", value: spec.userData }] },
                  disks: [
                    {
                      boot: true,
                      autoDelete: true,
                      initializeParams: {
                        diskSizeGb: String(spec.diskGiB),
                        sourceImage: this.options.image ?? imageFor(spec.image),
                        labels,
                      },
                    },
                  ],
                  networkInterfaces: [
                    {
                      network: spec.network.networkId,
                      subnetwork: spec.network.subnets.find((s) => s.zone === zone)?.id,
                      accessConfigs: [{ name: "External NAT", type: "ONE_TO_ONE_NAT" }],
                    },
                  ],
                  // The cluster's service account, with the cloud-platform scope: what it may do is its IAM
                  // bindings (https://cloud.google.com/compute/docs/access/service-accounts#scopes_best_practice).
                  ...(spec.network.nodeIdentity
                    ? {
                        serviceAccounts: [
                          {
                            email: spec.network.nodeIdentity,
                            scopes: ["https://www.googleapis.com/auth/cloud-platform"],
                          },
                        ],
                      }
                    : {}),
                  // Shielded VM: Secure Boot, vTPM and integrity monitoring (https://cloud.google.com/compute/shielded-vm/docs/shielded-vm).
                  shieldedInstanceConfig: {
                    enableSecureBoot: true,
                    enableVtpm: true,
                    enableIntegrityMonitoring: true,
                  },
                },
              },
              ONE_ATTEMPT,
            ),
          ),
        async () => (await this.#get(project, zone, ctx.name, ctx)) !== undefined,
        what,
        // User data holds secrets in the fallback mode; never in an error.
      );
    }
    return this.#waitRunning(project, zone, ctx.name, ctx);
  }

  /**
   * Serial port 1, the console (Ubuntu's images boot with `console=ttyS0`), where the boot script's stage lines
   * appear: the last 1 MB of output; `undefined` before the instance wrote any, or while it does not run (the API
   * answers only for a running instance: 400 `resourceNotReady` otherwise;
   * https://cloud.google.com/compute/docs/troubleshooting/viewing-serial-port-output,
   * https://cloud.google.com/compute/docs/reference/rest/v1/instances/getSerialPortOutput).
   */
  async bootLog(state: NodeState, ctx: ResourceContext): Promise<string | undefined> {
    const { project, zone, instance } = parts(state.id);
    const instances = await this.clients.compute("InstancesClient");
    try {
      const [out] = await gcpCall(`Compute instances.getSerialPortOutput (${instance})`, ctx, () =>
        instances.getSerialPortOutput({ project, zone, instance, port: 1 }, ONE_ATTEMPT),
      );
      return out.contents || undefined;
    } catch (error) {
      if (httpStatusOf(error) === 400 && reasonOf(error) === "resourceNotReady") return undefined;
      throw error;
    }
  }

  async read(state: NodeState, ctx: ResourceContext): Promise<NodeState | undefined> {
    const { project, zone, instance } = parts(state.id);
    const found = await this.#get(project, zone, instance, ctx);
    return found ? toState(found) : undefined;
  }

  /** Starts a node stopped outside k3sinfra (drift repair); nothing else changes in place. */
  async update(state: NodeState, _spec: NodeSpec, ctx: ResourceContext): Promise<NodeState> {
    const { project, zone, instance } = parts(state.id);
    const found = await this.#get(project, zone, instance, ctx);
    if (!found) throw new ProviderError(`instance ${state.id} no longer exists`);
    if (found.status === "TERMINATED" || found.status === "STOPPED" || found.status === "SUSPENDED") {
      const instances = await this.clients.compute("InstancesClient");
      await computeOp(this.clients, `Compute instances.start (${instance})`, ctx, () =>
        instances.start({ project, zone, instance }, ONE_ATTEMPT),
      );
    } else if (found.status === "STOPPING") {
      // Wait for the stop to finish, then start.
      await waitUntil(
        async () => {
          const s = await this.#get(project, zone, instance, ctx);
          return s?.status === "STOPPING"
            ? { state: "RETRY", reason: "stopping" }
            : { state: "SUCCESS", value: s };
        },
        { ...ctx.poll, signal: ctx.signal, maxWaitMs: 10 * 60_000, description: `${instance} to stop` },
      );
      return this.update(state, _spec, ctx);
    }
    return this.#waitRunning(project, zone, instance, ctx);
  }

  async delete(state: NodeState, ctx: ResourceContext): Promise<void> {
    const { project, zone, instance } = parts(state.id);
    const found = await this.#get(project, zone, instance, ctx);
    if (!found) return;
    if (!hasLabels(found.labels, { "k3sinfra:cluster": ctx.cluster }))
      throw new ProviderError(`Not touching instance ${instance}: its labels name another k3sinfra cluster.`);
    const instances = await this.clients.compute("InstancesClient");
    try {
      await computeOp(this.clients, `Compute instances.delete (${instance})`, ctx, () =>
        instances.delete({ project, zone, instance }, ONE_ATTEMPT),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
    }
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<NodeState[]> {
    const project = await this.clients.project();
    const instances = await this.clients.compute("InstancesClient");
    const out: NodeState[] = [];
    const scopes = await gcpCall("Compute instances.aggregatedList", ctx, async () => {
      const all: Instance[] = [];
      for await (const [, scoped] of instances.aggregatedListAsync(
        { project },
        { ...ONE_ATTEMPT, autoPaginate: false },
      ))
        all.push(...((scoped.instances ?? []) as Instance[]));
      return all;
    });
    for (const i of scopes) if (hasLabels(i.labels, tags)) out.push(toState(i));
    return out;
  }

  /**
   * Writes the late values as metadata attributes `k3sinfra-<key>`, keeping the other items; setMetadata
   * takes the current fingerprint, and a concurrent change (412) is read again and retried.
   */
  async publish(
    state: NodeState,
    values: Readonly<Record<string, string>>,
    ctx: ResourceContext,
  ): Promise<void> {
    const { project, zone, instance } = parts(state.id);
    const instances = await this.clients.compute("InstancesClient");
    await waitUntil(
      async () => {
        const found = await this.#get(project, zone, instance, ctx);
        if (!found) throw new ProviderError(`instance ${state.id} no longer exists`);
        const items = [...(found.metadata?.items ?? [])].map((i) => ({
          key: i.key ?? "",
          value: i.value ?? "",
        }));
        let changed = false;
        for (const [key, value] of Object.entries(values)) {
          const k = `${PUBLISH_PREFIX}${key}`;
          const item = items.find((i) => i.key === k);
          if (item?.value === value) continue;
          changed = true;
          if (item) item.value = value;
          else items.push({ key: k, value });
        }
        if (!changed) return { state: "SUCCESS", value: undefined };
        try {
          await computeOp(this.clients, `Compute instances.setMetadata (${instance})`, ctx, () =>
            instances.setMetadata(
              {
                project,
                zone,
                instance,
                metadataResource: { fingerprint: found.metadata?.fingerprint ?? "", items },
              },
              ONE_ATTEMPT,
            ),
          );
          return { state: "SUCCESS", value: undefined };
        } catch (error) {
          if (httpStatusOf(error) === 412) return { state: "RETRY", reason: "metadata changed meanwhile" };
          throw error;
        }
      },
      { ...ctx.poll, signal: ctx.signal, maxWaitMs: 5 * 60_000, description: `metadata of ${instance}` },
    );
  }

  async #get(
    project: string,
    zone: string,
    instance: string,
    ctx: ResourceContext,
  ): Promise<Instance | undefined> {
    const instances = await this.clients.compute("InstancesClient");
    try {
      const [i] = await gcpCall(`Compute instances.get (${instance})`, ctx, () =>
        instances.get({ project, zone, instance }, ONE_ATTEMPT),
      );
      return i as Instance;
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async #waitRunning(
    project: string,
    zone: string,
    instance: string,
    ctx: ResourceContext,
  ): Promise<NodeState> {
    return waitUntil(
      async () => {
        const i = await this.#get(project, zone, instance, ctx);
        if (!i) return { state: "FAILURE", reason: `instance ${instance} disappeared` };
        if (i.status === "RUNNING" && i.networkInterfaces?.[0]?.networkIP)
          return { state: "SUCCESS", value: toState(i) };
        return { state: "RETRY", reason: `instance ${instance} is ${i.status}` };
      },
      {
        ...ctx.poll,
        signal: ctx.signal,
        maxWaitMs: 15 * 60_000,
        description: `instance ${instance} to be running`,
        onRetry: (_n, reason) => ctx.report(`waiting: ${reason}`),
      },
    );
  }
}
