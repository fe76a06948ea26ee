/**
 * Google Cloud as its Node clients call it over HTTP/REST: Compute Engine v1 (compute.ts) with zonal,
 * regional and global operations. Every request needs an `Authorization` header (the clients send the
 * service account's self-signed JWT or an OAuth token); the project is taken from the path, and a project
 * seen for the first time has the default network. Point the clients at `endpoint()` with
 * `apiEndpoint`/`port`/`protocol: "http"`.
 */

import { checkStage } from "../boot/index.js";
import type { CloudContext, CloudHandler, CloudRequest, RoutedCall } from "../cloud.js";
import { watchState } from "../persistence.js";
import type { BootFaultTarget, BootReport, InventoryItem } from "../types.js";
import { BootSimulation } from "./boot.js";
import { Compute } from "./compute.js";
import { CloudDns } from "./dns.js";
import { Iam } from "./iam.js";
import { MetadataServer } from "./metadata.js";
import { emptyState, type GcpState, statusAt } from "./model.js";
import { MysqlBacking } from "./mysql.js";
import { SecretManager } from "./secrets.js";
import { CloudSql } from "./sql.js";

export class GcpCloud implements CloudHandler {
  readonly name = "gcp";
  #raw: GcpState = emptyState();
  #view: GcpState = this.#raw;
  #onChange: (() => void) | undefined;
  readonly #compute: Compute;
  readonly #sql: CloudSql;
  readonly #dns: CloudDns;
  readonly #iam: Iam;
  readonly #secrets: SecretManager;
  readonly #metadata: MetadataServer;
  readonly #boot: BootSimulation;
  readonly #mysql: MysqlBacking | undefined;

  readonly #ctx: CloudContext;

  constructor(ctx: CloudContext) {
    this.#ctx = ctx;
    const state = () => this.#view;
    this.#compute = new Compute(state, ctx);
    this.#mysql = ctx.options.mysql ? new MysqlBacking(ctx.options.mysql) : undefined;
    this.#sql = new CloudSql(state, ctx, this.#compute, this.#mysql);
    this.#dns = new CloudDns(state, ctx);
    this.#iam = new Iam(state, ctx);
    this.#secrets = new SecretManager(state, ctx, this.#iam);
    this.#metadata = new MetadataServer(this.#compute, this.#iam);
    this.#boot = new BootSimulation(
      state,
      this.#compute,
      this.#secrets,
      ctx.options.simulateBoot?.kubeconfigAfterMs,
      ctx.log,
    );
  }

  endpoint(baseUrl: string): string {
    return baseUrl;
  }

  route(req: CloudRequest): RoutedCall | undefined {
    // Server 0's kubeconfig write is played lazily, before any Secret Manager call could look for it.
    if (req.path.includes("/secrets")) this.#boot.play(false);
    return (
      this.#compute.route(req) ??
      this.#sql.route(req) ??
      this.#dns.route(req) ??
      this.#iam.route(req) ??
      this.#secrets.route(req) ??
      this.#metadata.route(req)
    );
  }

  inventory(opts: { includeDefaults: boolean }): InventoryItem[] {
    this.#compute.sweep();
    const items: InventoryItem[] = [];
    for (const r of Object.values(this.#view.compute)) {
      const seeded = r.name === "default" && (r.collection === "networks" || r.collection === "subnetworks");
      if (seeded && !opts.includeDefaults) continue;
      const item: InventoryItem = {
        cloud: "gcp",
        service: "compute",
        type: r.collection,
        id: r.path,
        name: r.name,
        state: r.deleteAt !== undefined ? "DELETING" : (statusAt(r.timeline, this.#now()) ?? "READY"),
        tags: { ...((r.body.labels as Record<string, string> | undefined) ?? {}) },
      };
      if (r.scope.kind !== "global") item.region = r.scope.name.replace(/-[a-z]$/, "");
      if (typeof r.body.description === "string") item.comment = r.body.description;
      items.push(item);
    }
    this.#sql.sweep();
    for (const i of Object.values(this.#view.sql.instances)) {
      const view = this.#sql.view(i);
      const settings = view.settings as { userLabels?: Record<string, string> };
      const item: InventoryItem = {
        cloud: "gcp",
        service: "sqladmin",
        type: "sql-instance",
        id: `projects/${i.project}/instances/${i.name}`,
        name: i.name,
        region: String(view.region),
        state: String(view.state),
        tags: { ...(settings.userLabels ?? {}) },
      };
      if (i.connectPort !== undefined) item.connect = { host: "127.0.0.1", port: i.connectPort };
      items.push(item);
    }
    for (const sec of Object.values(this.#view.secrets.secrets))
      items.push({
        cloud: "gcp",
        service: "secretmanager",
        type: "secret",
        id: `projects/${sec.project}/secrets/${sec.name}`,
        name: sec.name,
        state: sec.versions.length > 0 ? "ENABLED" : "EMPTY",
        tags: { ...sec.labels },
      });
    for (const a of Object.values(this.#view.iam.accounts))
      items.push({
        cloud: "gcp",
        service: "iam",
        type: "service-account",
        id: a.email,
        name: a.accountId,
        state: "ENABLED",
        tags: {},
        comment: a.description,
      });
    for (const z of Object.values(this.#view.dns.zones))
      for (const r of z.rrsets) {
        if (r.type === "NS" || r.type === "SOA") continue;
        items.push({
          cloud: "gcp",
          service: "dns",
          type: "resource-record-set",
          id: `${z.name}/${r.name}/${r.type}`,
          name: r.name,
          zoneId: z.name,
          state: this.#dns.settled(z, r.name) ? "done" : "pending",
          tags: {},
        });
      }
    return items;
  }

  #now(): number {
    return this.#compute.now;
  }

  /** Test back door (`Emulator.bootNodes`): every running server 0 stores its kubeconfig now. */
  bootNodes(): BootReport[] {
    return this.#boot.play(true);
  }

  /**
   * `Emulator.failBootstrap` (boot-timeline.ts): an instance by path, name or numeric id (false when none has it),
   * or `{ tags }` for every instance whose labels carry them (as labels are written: `k3sinfra:cluster` is the
   * label `k3sinfra-cluster`), now and later.
   */
  failBootstrap(target: BootFaultTarget, stage: string, reason?: string): boolean {
    return this.#compute.boot.fail(target, checkStage(stage), reason);
  }

  /** `Emulator.clearBootstrapFault`: same targets. */
  clearBootstrapFault(target: BootFaultTarget): boolean {
    return this.#compute.boot.clear(target);
  }

  /** Test back door: an instance (its path `projects/p/zones/z/instances/n` or its name) fails its health checks. */
  setTargetHealth(instanceId: string, mode: "unhealthy" | "auto"): boolean {
    const found = Object.values(this.#view.compute).find(
      (r) => r.collection === "instances" && (r.path === instanceId || r.name === instanceId),
    );
    if (!found) return false;
    const rest = this.#view.unhealthy.filter((p) => p !== found.path);
    this.#view.unhealthy = mode === "unhealthy" ? [...rest, found.path] : rest;
    return true;
  }

  snapshot(): unknown {
    return this.#raw;
  }

  restore(data: unknown): void {
    const s = data as GcpState | undefined;
    if (s && s.version === 1) {
      this.#raw = { ...emptyState(), ...s };
      this.#view = this.#onChange ? watchState(this.#raw, this.#onChange) : this.#raw;
    }
  }

  watch(onChange: () => void): void {
    this.#onChange = onChange;
    this.#view = watchState(this.#raw, onChange);
  }

  /** Starts the `bootFaults`; reopens the local proxies of restored instances backed by a real MariaDB, on their ports. */
  async init(): Promise<void> {
    this.#compute.boot.init(this.#ctx.options.bootFaults ?? []);
    if (!this.#mysql) return;
    for (const [key, i] of Object.entries(this.#view.sql.instances))
      if (i.deleteAt === undefined) i.connectPort = await this.#mysql.openProxy(key, i.connectPort);
  }

  async close(): Promise<void> {
    await this.#mysql?.closeAll();
  }
}

export const createGcpCloud = (ctx: CloudContext): CloudHandler => new GcpCloud(ctx);
