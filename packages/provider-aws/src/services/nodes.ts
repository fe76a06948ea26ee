import type { EC2, Instance } from "@aws-sdk/client-ec2";
import {
  InvalidConfigError,
  type NodeService,
  type NodeSpec,
  type NodeState,
  ProviderError,
  type ResourceContext,
  type Tags,
  waitUntil,
} from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import type { AwsClients } from "../clients.js";
import { hasAwsCode } from "../errors.js";
import type { AwsOptions } from "../options.js";
import { assertOwned } from "../ownership.js";
import { nodeInstanceType, resolveImage } from "../sizing.js";
import { hasTags, tagFilters, tagList, tagRecord } from "../tags.js";

/** Prefix of the instance tags `publish` writes; bootstrap reads them from IMDS `/latest/meta-data/tags/instance/`. */
export const PUBLISH_PREFIX = "k3sinfra:";
const LIVE_STATES = ["pending", "running", "stopping", "stopped", "shutting-down"];
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html
const MAX_USER_DATA = 16 * 1024;
// Tags exposed through instance metadata may only use these characters (no spaces or slashes).
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/work-with-tags-in-IMDS.html
const IMDS_TAG_KEY = /^[A-Za-z0-9+\-=._:@]{1,127}$/;

const toState = (i: Instance, name: string): NodeState => ({
  id: i.InstanceId!,
  name: tagRecord(i.Tags).Name ?? name,
  zone: i.Placement?.AvailabilityZone ?? "",
  privateIp: i.PrivateIpAddress ?? "",
  publicIp: i.PublicIpAddress || undefined,
  status: i.State?.Name ?? "unknown",
  instanceType: i.InstanceType ?? "",
});

/** K3s server VMs: one EC2 instance per node, launched idempotently with the resource's ClientToken. */
export class AwsNodeService implements NodeService {
  // Changing the instance type needs a stop/start and the root volume cannot shrink: everything replaces.
  readonly updatable = [] as const satisfies readonly (keyof NodeSpec)[];
  readonly #clients: AwsClients;
  readonly #options: AwsOptions;

  constructor(clients: AwsClients, options: AwsOptions) {
    this.#clients = clients;
    this.#options = options;
  }

  native(): Promise<EC2> {
    return this.#clients.ec2();
  }

  async create(spec: NodeSpec, ctx: ResourceContext): Promise<NodeState> {
    const ec2 = await this.#clients.ec2();
    const instanceType = spec.instanceType ?? this.#options.instanceType ?? nodeInstanceType(spec.size);
    if (!instanceType)
      throw new InvalidConfigError([
        { path: "nodes.size", message: "maps to no EC2 instance type; set nodes.instanceType" },
      ]);
    const image = resolveImage(spec.image, this.#options.amiId, this.#options.rootDeviceName);
    if (!image)
      throw new InvalidConfigError([
        { path: "nodes.image", message: `'${spec.image}' is not an image AWS knows` },
      ]);
    const rootDevice = image.rootDevice ?? (await this.#rootDevice(ec2, image.imageId, ctx));
    const subnet = spec.network.subnets.find((s) => s.zone === spec.zone);
    if (!subnet) throw new ProviderError(`The network has no subnet in zone ${spec.zone} for ${ctx.name}.`);
    // Gzipped: cloud-init reads compressed user data, and the node-side secret client alone is ~9 KB of the
    // 16 KB EC2 allows (https://cloudinit.readthedocs.io/en/latest/explanation/format.html).
    // node:zlib on first use: planning (every command's start-up) needs none of it.
    const { gzipSync } = await import("node:zlib");
    const packed = gzipSync(spec.userData, { level: 9 });
    if (packed.byteLength > MAX_USER_DATA)
      throw new ProviderError(
        `User data for ${ctx.name} is over EC2's 16 KiB limit even gzipped (${packed.byteLength} bytes, ${spec.userDataHash}).`,
      );
    const userData = packed.toString("base64");
    const profile = spec.network.nodeIdentity;
    const tags = tagList(ctx.tags, { Name: ctx.name });

    ctx.report(`launching ${instanceType} in ${spec.zone}`);
    const launch = async (clientToken: string): Promise<Instance | undefined> => {
      try {
        // The ClientToken makes a repeated launch (after a crash or a lost reply) return the first instance.
        // https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html
        const out = await awsCall(
          `EC2 RunInstances (${ctx.name})`,
          ctx,
          (o) =>
            ec2.runInstances(
              {
                ClientToken: clientToken,
                MinCount: 1,
                MaxCount: 1,
                ImageId: image.imageId,
                InstanceType: instanceType as never,
                SubnetId: subnet.id,
                SecurityGroupIds: [spec.network.groups.nodes],
                UserData: userData,
                KeyName: spec.sshKeyName,
                ...(profile ? { IamInstanceProfile: { Name: profile } } : {}),
                // IMDSv2 only; tags in metadata so bootstrap reads what `publish` wrote. Hop limit 1 keeps
                // pods (one hop further) away from the instance's metadata.
                MetadataOptions: {
                  HttpTokens: "required",
                  HttpEndpoint: "enabled",
                  HttpPutResponseHopLimit: 1,
                  InstanceMetadataTags: "enabled",
                },
                BlockDeviceMappings: [
                  {
                    DeviceName: rootDevice,
                    Ebs: {
                      VolumeSize: spec.diskGiB,
                      VolumeType: "gp3",
                      Encrypted: true,
                      DeleteOnTermination: true,
                    },
                  },
                ],
                TagSpecifications: [
                  { ResourceType: "instance", Tags: tags },
                  { ResourceType: "volume", Tags: tags },
                ],
              },
              o,
            ),
          [spec.userData, userData],
        );
        return out.Instances?.[0];
      } catch (error) {
        // Same token, different parameters: the instance from the first launch is still ours.
        if (!hasAwsCode(error, "IdempotentParameterMismatch")) throw error;
        const adopted = await this.#byClientToken(ec2, clientToken, ctx);
        if (!adopted) throw error;
        ctx.report(`adopting ${adopted.InstanceId}, launched earlier with different settings`);
        return adopted;
      }
    };
    // EC2 remembers a token after its instance is terminated and keeps returning that instance. When the
    // instance of this generation was terminated behind our back, launch under the next derived token;
    // still deterministic, so a crash between the two launches adopts instead of duplicating.
    let instance: Instance | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const token = attempt === 0 ? ctx.idempotencyToken : `${ctx.idempotencyToken}-${attempt}`;
      instance = await this.#launchOnceProfileIsVisible(() => launch(token), ctx);
      const s = instance?.State?.Name;
      if (s !== "terminated" && s !== "shutting-down") break;
    }
    if (!instance?.InstanceId)
      throw new ProviderError(`EC2 RunInstances returned no instance for ${ctx.name}.`);
    return this.#waitRunning(ec2, instance.InstanceId, ctx);
  }

  /**
   * IAM is eventually consistent: a new instance profile is refused by RunInstances with
   * `InvalidParameterValue` (…iamInstanceProfile.name is invalid…) for some seconds. That case only is
   * retried, within two minutes (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
   */
  #launchOnceProfileIsVisible(
    launch: () => Promise<Instance | undefined>,
    ctx: ResourceContext,
  ): Promise<Instance | undefined> {
    return waitUntil(
      async () => {
        try {
          return { state: "SUCCESS", value: await launch() };
        } catch (error) {
          const profileNotYet =
            hasAwsCode(error, "InvalidParameterValue") && /iamInstanceProfile/i.test(String(error));
          if (!profileNotYet) throw error;
          return { state: "RETRY", reason: "the new instance profile is not visible to EC2 yet" };
        }
      },
      {
        description: `the instance profile of ${ctx.name} to reach EC2`,
        maxWaitMs: 2 * 60_000,
        signal: ctx.signal,
        ...ctx.poll,
        onRetry: (_n, reason) => ctx.report(`waiting: ${reason}`),
      },
    );
  }

  /**
   * The serial console output (the last 64 KB with `Latest`, Nitro instances), where the boot script's stage
   * lines appear; `undefined` before the instance wrote any
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetConsoleOutput.html).
   */
  async bootLog(state: NodeState, ctx: ResourceContext): Promise<string | undefined> {
    const ec2 = await this.#clients.ec2();
    const out = await awsCall(`EC2 GetConsoleOutput (${state.name})`, ctx, (o) =>
      ec2.getConsoleOutput({ InstanceId: state.id, Latest: true }, o),
    );
    return out.Output ? Buffer.from(out.Output, "base64").toString("utf8") : undefined;
  }

  /** The live status and addresses; a terminated or shutting-down instance is gone (it cannot come back). */
  async read(state: NodeState, ctx: ResourceContext): Promise<NodeState | undefined> {
    const ec2 = await this.#clients.ec2();
    const instance = await this.#describe(ec2, state.id, ctx);
    const s = instance?.State?.Name;
    if (!instance || s === "terminated" || s === "shutting-down") return undefined;
    return toState(instance, state.name);
  }

  /**
   * Repairs drift: a stopped instance is started (a stopping one once it has stopped) and waited to
   * `running`. Nothing in the spec changes in place (`updatable` is empty), so this only converges the
   * instance back to running; its public IPv4 is new after a stop/start, hence the fresh read.
   * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Stop_Start.html
   */
  async update(state: NodeState, _spec: NodeSpec, ctx: ResourceContext): Promise<NodeState> {
    const ec2 = await this.#clients.ec2();
    return waitUntil(
      async () => {
        const i = await this.#describe(ec2, state.id, ctx);
        const s = i?.State?.Name;
        if (!i || s === "terminated" || s === "shutting-down")
          return { state: "FAILURE", reason: `instance ${state.id} is ${s ?? "gone"}; it must be replaced` };
        if (s === "running" && i.PrivateIpAddress) return { state: "SUCCESS", value: toState(i, state.name) };
        if (s === "stopped") {
          ctx.report(`starting ${state.id}, found stopped`);
          try {
            await awsCall(`EC2 StartInstances (${state.id})`, ctx, (o) =>
              ec2.startInstances({ InstanceIds: [state.id] }, o),
            );
          } catch (error) {
            // Someone else moved it meanwhile; the next look decides.
            if (!hasAwsCode(error, "IncorrectInstanceState")) throw error;
          }
        }
        return { state: "RETRY", reason: `instance ${state.id} is ${s}` };
      },
      {
        description: `instance ${state.id} (${ctx.name}) to be running again`,
        maxWaitMs: 20 * 60_000,
        signal: ctx.signal,
        ...ctx.poll,
        onRetry: (n, reason) => {
          if (n % 5 === 1) ctx.report(`waiting: ${reason}`);
        },
      },
    );
  }

  async delete(state: NodeState, ctx: ResourceContext): Promise<void> {
    const ec2 = await this.#clients.ec2();
    const current = await this.#describe(ec2, state.id, ctx);
    if (!current || current.State?.Name === "terminated") return;
    assertOwned(tagRecord(current.Tags), ctx, `instance ${state.id}`);
    try {
      ctx.report(`terminating ${state.id}`);
      await awsCall(`EC2 TerminateInstances (${state.id})`, ctx, (o) =>
        ec2.terminateInstances({ InstanceIds: [state.id] }, o),
      );
    } catch (error) {
      if (hasAwsCode(error, "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed")) return;
      throw error;
    }
    await waitUntil(
      async () => {
        const i = await this.#describe(ec2, state.id, ctx);
        const s = i?.State?.Name;
        return !i || s === "terminated"
          ? { state: "SUCCESS", value: undefined }
          : { state: "RETRY", reason: `instance is ${s}` };
      },
      {
        description: `instance ${state.id} to terminate`,
        maxWaitMs: 30 * 60_000,
        signal: ctx.signal,
        ...ctx.poll,
      },
    );
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<NodeState[]> {
    const ec2 = await this.#clients.ec2();
    const instances = await collectPages(
      (token) =>
        awsCall("EC2 DescribeInstances", ctx, (o) =>
          ec2.describeInstances(
            {
              Filters: [...tagFilters(tags), { Name: "instance-state-name", Values: LIVE_STATES }],
              NextToken: token,
            },
            o,
          ),
        ),
      (p) => (p.Reservations ?? []).flatMap((r) => r.Instances ?? []),
      (p) => p.NextToken,
    );
    return instances
      .filter((i) => hasTags(tagRecord(i.Tags), tags) && LIVE_STATES.includes(i.State?.Name ?? ""))
      .map((i) => toState(i, ""));
  }

  /** Writes non-secret values as `k3sinfra:<key>` instance tags, which bootstrap reads from IMDS. */
  async publish(
    state: NodeState,
    values: Readonly<Record<string, string>>,
    ctx: ResourceContext,
  ): Promise<void> {
    const entries = Object.entries(values);
    if (entries.length === 0) return;
    for (const [key, value] of entries) {
      if (!IMDS_TAG_KEY.test(`${PUBLISH_PREFIX}${key}`))
        throw new ProviderError(
          `Cannot publish '${key}': instance metadata tag keys allow only letters, digits and + - = . _ : @`,
        );
      if (value.length > 256)
        throw new ProviderError(`Cannot publish '${key}': tag values are limited to 256 characters`);
    }
    const ec2 = await this.#clients.ec2();
    await awsCall(`EC2 CreateTags (${state.id})`, ctx, (o) =>
      ec2.createTags(
        {
          Resources: [state.id],
          Tags: entries.map(([key, Value]) => ({ Key: `${PUBLISH_PREFIX}${key}`, Value })),
        },
        o,
      ),
    );
  }

  /** The root device name of an AMI (`/dev/sda1` on Ubuntu, `/dev/xvda` on Debian or Amazon Linux). */
  async #rootDevice(ec2: EC2, imageId: string, ctx: ResourceContext): Promise<string> {
    const out = await awsCall(`EC2 DescribeImages (${imageId})`, ctx, (o) =>
      ec2.describeImages({ ImageIds: [imageId] }, o),
    );
    const name = out.Images?.[0]?.RootDeviceName;
    if (!name)
      throw new InvalidConfigError([
        { path: "nodes.image", message: `AMI ${imageId} was not found in ${ctx.region}` },
      ]);
    return name;
  }

  async #describe(ec2: EC2, id: string, ctx: ResourceContext): Promise<Instance | undefined> {
    try {
      const out = await awsCall(`EC2 DescribeInstances (${id})`, ctx, (o) =>
        ec2.describeInstances({ InstanceIds: [id] }, o),
      );
      return out.Reservations?.[0]?.Instances?.[0];
    } catch (error) {
      if (hasAwsCode(error, "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed")) return undefined;
      throw error;
    }
  }

  async #byClientToken(ec2: EC2, clientToken: string, ctx: ResourceContext): Promise<Instance | undefined> {
    const out = await awsCall("EC2 DescribeInstances (client-token)", ctx, (o) =>
      ec2.describeInstances(
        {
          Filters: [
            { Name: "client-token", Values: [clientToken] },
            { Name: "instance-state-name", Values: LIVE_STATES },
          ],
        },
        o,
      ),
    );
    return out.Reservations?.flatMap((r) => r.Instances ?? [])[0];
  }

  #waitRunning(ec2: EC2, id: string, ctx: ResourceContext): Promise<NodeState> {
    return waitUntil(
      async () => {
        // Right after launch DescribeInstances may not know the id yet (eventual consistency): retry.
        const i = await this.#describe(ec2, id, ctx);
        const s = i?.State?.Name;
        if (i && s === "running" && i.PrivateIpAddress)
          return { state: "SUCCESS", value: toState(i, ctx.name) };
        if (s === "shutting-down" || s === "terminated" || s === "stopping" || s === "stopped")
          return {
            state: "FAILURE",
            reason: `instance ${id} is ${s}${i?.StateReason?.Message ? ` (${i.StateReason.Message})` : ""}`,
          };
        return { state: "RETRY", reason: `instance ${id} is ${s ?? "not visible yet"}` };
      },
      {
        description: `instance ${id} (${ctx.name}) to be running`,
        maxWaitMs: 20 * 60_000,
        signal: ctx.signal,
        ...ctx.poll,
        onRetry: (n, reason) => {
          if (n % 5 === 1) ctx.report(`waiting: ${reason}`);
        },
      },
    );
  }
}
