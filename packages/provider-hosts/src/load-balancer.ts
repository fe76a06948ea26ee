import type {
  LoadBalancerService,
  LoadBalancerSpec,
  LoadBalancerState,
  NodeState,
  ResourceContext,
  Tags,
  TargetsState,
} from "@k3sinfra/core";
import { claim, type Hosts, readOwner, release, tagsMatch } from "./hosts.js";
import {
  applyClusterConf,
  checkPortsFree,
  clusterConf,
  ensureNginx,
  nginxRunning,
  parseTargets,
  renderStreamConf,
} from "./nginx.js";
import type { SshSession } from "./ssh/session.js";

/**
 * The L4 load balancer: an existing host running NGINX's stream module (installed from the distribution's
 * packages when missing), configured over SSH in a file of its own (`nginx.ts`). `setTargets` rewrites the
 * upstreams; delete removes only what k3sinfra wrote (and not NGINX).
 */
export class HostsLoadBalancerService implements LoadBalancerService {
  readonly updatable = ["idleTimeoutSeconds"] as const;

  constructor(
    private readonly hosts: Hosts,
    private readonly publicAddress: string | undefined,
  ) {}

  private id(): string {
    const t = this.hosts.loadBalancer();
    return `nginx://${t.host}:${t.port}`;
  }

  private state(name: string, running: boolean): LoadBalancerState {
    const t = this.hosts.loadBalancer();
    return {
      id: this.id(),
      name,
      mode: "l4",
      ips: [this.publicAddress ?? t.host],
      sourceCidrs: [`${t.host}/32`],
      status: running ? "active" : "stopped",
    };
  }

  private async write(
    s: SshSession,
    ctx: ResourceContext,
    targets: readonly Pick<NodeState, "id" | "privateIp">[],
    idle: number,
  ) {
    await applyClusterConf(
      s,
      ctx.cluster,
      renderStreamConf({ cluster: ctx.cluster, targets, idleTimeoutSeconds: idle }),
    );
  }

  async create(spec: LoadBalancerSpec, ctx: ResourceContext): Promise<LoadBalancerState> {
    const target = this.hosts.loadBalancer();
    ctx.report(`configuring NGINX on ${target.host} over SSH`);
    return this.hosts.with(target, ctx, async (s) => {
      await claim(s, "load-balancer", ctx, [clusterConf(ctx.cluster)], { idle: spec.idleTimeoutSeconds });
      const installed = await ensureNginx(s);
      if (installed.length > 0) ctx.report(`installed ${installed.join(" ")} on ${target.host}`);
      await checkPortsFree(s);
      // An adopted balancer keeps the targets it has.
      const current = parseTargets((await s.readFile(clusterConf(ctx.cluster))) ?? "");
      await this.write(
        s,
        ctx,
        current.map((t) => ({ id: t.id, privateIp: t.ip })),
        spec.idleTimeoutSeconds,
      );
      return this.state(ctx.name, await nginxRunning(s));
    });
  }

  async read(_state: LoadBalancerState, ctx: ResourceContext): Promise<LoadBalancerState | undefined> {
    return this.hosts.with(this.hosts.loadBalancer(), ctx, async (s) => {
      const owner = await readOwner(s, "load-balancer");
      if (!owner || !tagsMatch(owner.tags, { "k3sinfra:cluster": ctx.cluster })) return undefined;
      return this.state(owner.name, await nginxRunning(s));
    });
  }

  async update(
    state: LoadBalancerState,
    spec: LoadBalancerSpec,
    ctx: ResourceContext,
  ): Promise<LoadBalancerState> {
    return this.create(spec, ctx).then((s) => ({ ...s, id: state.id }));
  }

  async delete(_state: LoadBalancerState, ctx: ResourceContext): Promise<void> {
    await this.hosts.with(this.hosts.loadBalancer(), ctx, async (s) => {
      const owner = await readOwner(s, "load-balancer");
      if (!owner || !tagsMatch(owner.tags, { "k3sinfra:cluster": ctx.cluster })) return;
      await applyClusterConf(s, ctx.cluster, undefined);
      await release(s, "load-balancer", owner);
    });
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<LoadBalancerState[]> {
    return this.hosts.with(this.hosts.loadBalancer(), ctx, async (s) => {
      const owner = await readOwner(s, "load-balancer");
      if (!owner || !tagsMatch(owner.tags, tags)) return [];
      return [this.state(owner.name, await nginxRunning(s))];
    });
  }

  async setTargets(
    lb: LoadBalancerState,
    nodes: readonly NodeState[],
    ctx: ResourceContext,
  ): Promise<TargetsState> {
    return this.hosts.with(this.hosts.loadBalancer(), ctx, async (s) => {
      const owner = await readOwner(s, "load-balancer");
      const idle = Number(owner?.data?.idle ?? 1800);
      await this.write(s, ctx, nodes, idle);
      return { id: lb.id, nodeIds: nodes.map((n) => n.id) };
    });
  }

  async getTargets(lb: LoadBalancerState, ctx: ResourceContext): Promise<TargetsState | undefined> {
    return this.hosts.with(this.hosts.loadBalancer(), ctx, async (s) => {
      const owner = await readOwner(s, "load-balancer");
      if (!owner || !tagsMatch(owner.tags, { "k3sinfra:cluster": ctx.cluster })) return undefined;
      const targets = parseTargets((await s.readFile(clusterConf(ctx.cluster))) ?? "");
      // Healthy: port 80 accepts a connection from the NGINX host, as NGINX's passive check would see it.
      const probe = targets
        .map((t) => `timeout 5 bash -c 'exec 3<>/dev/tcp/${t.ip}/80' 2>/dev/null && echo ${t.ip}`)
        .join("\n");
      const up = new Set((targets.length > 0 ? (await s.exec(probe)).stdout : "").split("\n"));
      return {
        id: lb.id,
        nodeIds: targets.map((t) => t.id),
        healthy: targets.filter((t) => up.has(t.ip)).map((t) => t.id),
      };
    });
  }

  async native(): Promise<unknown> {
    return this.hosts;
  }
}
