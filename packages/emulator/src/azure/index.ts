/**
 * Azure as its official JS clients see it: Azure Resource Manager (resource groups, networking, compute,
 * MySQL flexible server, DNS, managed identities, Key Vault, role assignments) with its long-running
 * operations, the identity platform's token endpoint, and the Key Vault data plane. Served over HTTPS
 * (`tls`): the clients refuse to send a bearer token over plain HTTP.
 */

import { checkStage } from "../boot/index.js";
import type { CloudContext, CloudHandler, CloudRequest, HttpResponse, RoutedCall } from "../cloud.js";
import { watchState } from "../persistence.js";
import type { BootFaultTarget, FaultKind, InventoryItem } from "../types.js";
import { ArmError, armErrors, errorResponse } from "./arm.js";
import { identityRoute } from "./auth.js";
import { AzureBoot } from "./boot.js";
import { bootDiagnosticsRoute } from "./boot-diagnostics.js";
import { Engine } from "./engine.js";
import { seedFixtures } from "./fixtures.js";
import { imdsRoute } from "./imds.js";
import { keyVaultRoute } from "./keyvault.js";
import { KINDS } from "./kinds/index.js";
import { sweepDeletedVaults } from "./kinds/keyvault.js";
import { SERVER } from "./kinds/mysql.js";
import { type AzureState, emptyState } from "./model.js";
import { MysqlBacking } from "./mysql-backing.js";
import { routeArm } from "./router.js";

export { AZURE_TEST_CREDENTIALS } from "./credentials.js";

const FAULTS: Record<Exclude<FaultKind, "slow">, () => ArmError> = {
  throttle: () => armErrors.throttled(1),
  error500: () => armErrors.internal(),
  unavailable503: () => armErrors.unavailable(),
};

export class AzureCloud implements CloudHandler {
  readonly name = "azure";
  readonly tls = true;
  #raw: AzureState = emptyState();
  #view: AzureState = this.#raw;
  #onChange: (() => void) | undefined;
  #base = "https://127.0.0.1";
  /** The base of the request being answered (its Host), while it is: see `requestBase`. */
  #requestBase: string | undefined;
  readonly ctx: CloudContext;
  readonly engine: Engine;
  /** What booting VMs show: serial logs, probe health, injected bootstrap faults (boot.ts). */
  readonly boot: AzureBoot;
  /** A real MariaDB behind the flexible servers (the `mysql` option), with what this process opened on it. */
  readonly #backing: MysqlBacking | undefined;
  readonly #opened = new Set<string>();

  constructor(ctx: CloudContext) {
    this.ctx = ctx;
    this.#backing = ctx.options.mysql ? new MysqlBacking(ctx.options.mysql) : undefined;
    const cloud = this;
    this.engine = new Engine(
      {
        get state() {
          return cloud.state;
        },
        rng: ctx.rng,
        scale: ctx.timeScale,
        now: () => ctx.now(),
        base: () => cloud.#requestBase ?? cloud.#base,
      },
      KINDS,
    );
    this.boot = new AzureBoot({
      get state() {
        return cloud.state;
      },
      options: ctx.options,
      scale: ctx.timeScale,
      now: () => ctx.now(),
    });
  }

  get state(): AzureState {
    return this.#view;
  }

  endpoint(baseUrl: string): string {
    this.#base = baseUrl;
    return baseUrl;
  }

  snapshot(): unknown {
    return this.#raw;
  }

  restore(data: unknown): void {
    const s = data as AzureState | undefined;
    if (s?.version !== 1) return;
    this.#raw = s;
    this.#view = this.#onChange ? watchState(s, this.#onChange) : s;
  }

  watch(onChange: () => void): void {
    this.#onChange = onChange;
    this.#view = watchState(this.#raw, onChange);
  }

  init(): void {
    seedFixtures(this.ctx.options.fixtures?.azure, this.state, this.ctx.now(), () => this.ctx.rng.uuid());
    this.boot.init();
  }

  inventory(opts: { includeDefaults: boolean }): InventoryItem[] {
    this.engine.sweep();
    const out: InventoryItem[] = [];
    for (const r of Object.values(this.state.resources)) {
      if (r.hidden?.fixture && !opts.includeDefaults) continue;
      out.push({
        cloud: "azure",
        service: r.type.split("/")[0]!,
        type: r.type,
        id: r.id,
        name: r.name,
        ...(r.location ? { region: r.location } : {}),
        state:
          r.type === SERVER
            ? this.ctx.now() >= r.readyAt
              ? "Ready"
              : "Starting"
            : this.engine.provisioningState(r),
        tags: { ...(r.tags ?? (r.properties.metadata as Record<string, string> | undefined) ?? {}) },
        ...(r.type === SERVER && typeof r.hidden?.connectPort === "number"
          ? { connect: { host: "127.0.0.1", port: r.hidden.connectPort } }
          : {}),
      });
    }
    // A soft-deleted vault still holds its name (and its secrets) until purged: it is left over, so it shows.
    sweepDeletedVaults(this.state, this.ctx.now());
    for (const d of Object.values(this.state.deletedVaults))
      out.push({
        cloud: "azure",
        service: "Microsoft.KeyVault",
        type: "Microsoft.KeyVault/deletedVaults",
        id: `${d.vaultId} (soft-deleted)`,
        name: d.name,
        region: d.location,
        state: "SoftDeleted",
        tags: { ...d.tags },
      });
    return out;
  }

  route(req: CloudRequest): RoutedCall | undefined {
    const rid = this.ctx.rng.uuid();
    const fault = (kind: Exclude<FaultKind, "slow">) => errorResponse(FAULTS[kind](), rid);
    const base = requestBase(req) ?? this.#base;
    const id = identityRoute(req.method, req.path, req.body, base, this.ctx.rng, this.ctx.now());
    if (id) return { service: "entra", operation: id.operation, run: async () => id.run(), fault };
    const imds = imdsRoute(req, this.state, this.ctx.now(), this.ctx.rng);
    if (imds) return { service: "imds", operation: imds.operation, run: async () => imds.run(), fault };
    const kv = keyVaultRoute(req, {
      state: this.state,
      rng: this.ctx.rng,
      now: () => this.ctx.now(),
      base: () => base,
    });
    if (kv) return { service: "keyvault", operation: kv.operation, run: async () => kv.run(), fault };
    const blob = bootDiagnosticsRoute(
      req,
      { state: this.state, rng: this.ctx.rng, now: () => this.ctx.now(), base: () => base },
      (vm, now) => this.boot.serialLog(vm, now),
    );
    if (blob) return { service: "storage", operation: blob.operation, run: async () => blob.run(), fault };
    const arm = routeArm(this, req, rid);
    if (arm)
      return {
        service: arm.service,
        operation: arm.operation,
        run: async () => {
          // Handlers run synchronously: the base cannot leak into another request's answer.
          this.#requestBase = base;
          let res: HttpResponse;
          try {
            res = guard(arm.run, rid);
          } finally {
            this.#requestBase = undefined;
          }
          await this.#syncBacking();
          return res;
        },
        fault,
      };
    return undefined;
  }

  /** Test back door: the load balancer probes of this VM (its id) fail, or follow it again. */
  setTargetHealth(instanceId: string, mode: "unhealthy" | "auto"): boolean {
    if (!this.engine.get(instanceId)) return false;
    const key = instanceId.toLowerCase();
    this.state.unhealthy ??= {};
    if (mode === "unhealthy") this.state.unhealthy[key] = true;
    else delete this.state.unhealthy[key];
    return true;
  }

  /** Test back door (`Emulator.failBootstrap`): a VM's id, or every VM carrying these tags. */
  failBootstrap(target: BootFaultTarget, stage: string, reason?: string): boolean {
    return this.boot.fail(target, checkStage(stage), reason);
  }

  /** Test back door (`Emulator.clearBootstrapFault`). */
  clearBootstrapFault(target: BootFaultTarget): boolean {
    return this.boot.clear(target);
  }

  async close(): Promise<void> {
    await this.#backing?.closeAll();
  }

  /**
   * Gives every flexible server its port and admin user on the backing MariaDB, and every database its
   * schema; closes the ports of servers that are gone. A failure is logged: the server then cannot be reached,
   * as a broken one could not.
   */
  async #syncBacking(): Promise<void> {
    const b = this.#backing;
    if (!b) return;
    try {
      const live = new Set<string>();
      for (const s of this.engine.list(SERVER)) {
        const key = s.id.toLowerCase();
        live.add(key);
        if (this.#opened.has(key)) continue;
        const port = await b.openProxy(key, s.hidden?.connectPort as number | undefined);
        s.hidden = { ...(s.hidden ?? {}), connectPort: port };
        await b.ensureAdmin(String(s.properties.administratorLogin), String(s.hidden?.password));
        this.#opened.add(key);
      }
      for (const d of this.engine.list(`${SERVER}/databases`)) {
        if (this.#opened.has(d.id.toLowerCase())) continue;
        await b.ensureDatabase(d.name);
        this.#opened.add(d.id.toLowerCase());
      }
      for (const key of [...this.#opened]) {
        if (key.includes("/databases/") || live.has(key)) continue;
        await b.closeProxy(key);
        this.#opened.delete(key);
      }
    } catch (err) {
      this.ctx.log(`azure: MySQL backing failed: ${(err as Error).message}`);
    }
  }
}

/**
 * The HTTPS base the client called (its Host header), which absolute URLs in answers (operation status URLs,
 * discovery documents) point at, as ARM's point at the ARM endpoint the client called (each cloud, public or
 * sovereign, answers on its own host): a client that reached the emulator through a proxy keeps polling
 * through it. ARM is HTTPS only. `undefined` without a usable Host.
 * https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/async-operations
 */
function requestBase(req: CloudRequest): string | undefined {
  const host = req.headers.host;
  return host && /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(host)
    ? `https://${host}`
    : undefined;
}

/** ARM errors thrown by a handler become ARM error bodies. */
function guard(run: () => HttpResponse, rid: string): HttpResponse {
  try {
    return run();
  } catch (err) {
    if (err instanceof ArmError) return errorResponse(err, rid);
    throw err;
  }
}

/** The `CloudFactory` registered as `azure`. */
export function createAzureCloud(ctx: CloudContext): CloudHandler {
  return new AzureCloud(ctx);
}
