/**
 * The resource lifecycle every emulated type shares: PUT (full replacement), GET, PATCH of tags, DELETE and
 * list, with ARM's long-running operation answers (201 + `Azure-AsyncOperation`, or 202 + `Location`, both
 * absolute URLs on the emulator) and provisioning states derived lazily from timestamps.
 * https://github.com/Azure/azure-resource-manager-rpc/blob/master/v1.0/async-api-reference.md
 */
import type { HttpResponse } from "../cloud.js";
import type { Rng } from "../rng.js";
import { type ArmPath, armErrors, json } from "./arm.js";
import { tags } from "./check.js";
import { AZURE_TEST_CREDENTIALS } from "./credentials.js";
import type { AzureState, Kind, KindCtx, LroStyle, Op, Res } from "./model.js";

/** What the engine needs from the cloud around it. */
export interface EngineHost {
  readonly state: AzureState;
  readonly rng: Rng;
  readonly scale: number;
  now(): number;
  /** The HTTPS base URL clients reach the emulator at (poll URLs are absolute). */
  base(): string;
}

const lower = (s: string) => s.toLowerCase();
/** The parent id of a child resource id (`…/virtualNetworks/v/subnets/s` → `…/virtualNetworks/v`). */
export const parentId = (id: string): string => id.split("/").slice(0, -2).join("/");

export class Engine {
  constructor(
    private readonly host: EngineHost,
    private readonly kinds: ReadonlyMap<string, Kind>,
  ) {}

  kind(type: string): Kind | undefined {
    return this.kinds.get(lower(type));
  }

  /** Drops what finished deleting: resources past `deleteAt`, with every resource under them. */
  sweep(): void {
    const now = this.host.now();
    const res = this.host.state.resources;
    for (const [key, r] of Object.entries(res)) {
      if (r.deleteAt !== undefined && r.deleteAt <= now) delete res[key];
    }
  }

  get(id: string): Res | undefined {
    const r = this.host.state.resources[lower(id)];
    return r && (r.deleteAt === undefined || r.deleteAt > this.host.now()) ? r : undefined;
  }

  /** Live resources of `type`, under `parent` (an id prefix: a resource group or a parent resource). */
  list(type: string, parent?: string): Res[] {
    const t = lower(type);
    const prefix = parent === undefined ? undefined : `${lower(parent)}/`;
    return Object.values(this.host.state.resources).filter(
      (r) =>
        lower(r.type) === t &&
        r.deleteAt === undefined &&
        (prefix === undefined || lower(r.id).startsWith(prefix)),
    );
  }

  ctx(path: ArmPath, apiVersion: string): KindCtx {
    const ctx: KindCtx = {
      now: this.host.now(),
      scale: this.host.scale,
      rng: this.host.rng,
      path,
      apiVersion,
      base: this.host.base(),
      tenant: AZURE_TEST_CREDENTIALS.tenantId,
      state: this.host.state,
      get: (id) => this.get(id),
      list: (type, parent) => this.list(type, parent),
      render: (r) => this.render(r, ctx),
    };
    return ctx;
  }

  /** The provisioning state ARM reports now. */
  provisioningState(r: Res): string {
    const now = this.host.now();
    if (r.deleteAt !== undefined) return "Deleting";
    if (now < r.readyAt) return r.hidden?.updated ? "Updating" : "Creating";
    return "Succeeded";
  }

  /** The resource as GET answers it. */
  render(r: Res, ctx: KindCtx): Record<string, unknown> {
    const kind = this.kind(r.type);
    const { provisioningState: _drop, ...props } = r.properties;
    return {
      id: r.id,
      name: r.name,
      type: r.type,
      ...(r.location !== undefined ? { location: r.location } : {}),
      ...(r.tags !== undefined ? { tags: r.tags } : {}),
      ...(r.sku !== undefined ? { sku: r.sku } : {}),
      ...(r.zones !== undefined ? { zones: r.zones } : {}),
      ...(r.identity !== undefined ? { identity: r.identity } : {}),
      etag: `W/"${r.etag}"`,
      properties: {
        ...props,
        ...(kind?.view?.(r, ctx) ?? {}),
        ...(kind?.noProvisioningState ? {} : { provisioningState: this.provisioningState(r) }),
      },
    };
  }

  /** The parent a PUT needs: the resource group, and the parent resource for a child type. */
  requireParents(path: ArmPath): void {
    if (path.resourceGroup !== undefined && path.scope === undefined && path.namespace !== undefined) {
      const rg = `/subscriptions/${path.subscription}/resourceGroups/${path.resourceGroup}`;
      if (!this.get(rg)) throw armErrors.resourceGroupNotFound(path.resourceGroup);
    }
    if (path.scope !== undefined && !this.get(path.scope)) {
      const [type, name] = path.scope.split("/").slice(-2);
      throw armErrors.resourceNotFound(type ?? "", name ?? "", path.resourceGroup ?? "");
    }
    if (path.types.length > 1) {
      const pid = parentId(path.id);
      if (!this.get(pid))
        throw armErrors.resourceNotFound(
          `${path.namespace}/${path.types.slice(0, -1).join("/")}`,
          path.names.slice(0, -1).join("/"),
          path.resourceGroup ?? "",
        );
    }
  }

  notFound(path: ArmPath, type: string): never {
    if (path.resourceGroup !== undefined && path.namespace === undefined)
      throw armErrors.resourceGroupNotFound(path.resourceGroup);
    if (path.resourceGroup !== undefined) {
      const rg = `/subscriptions/${path.subscription}/resourceGroups/${path.resourceGroup}`;
      if (!this.get(rg)) throw armErrors.resourceGroupNotFound(path.resourceGroup);
    }
    throw armErrors.resourceNotFound(type, path.names.join("/"), path.resourceGroup ?? "");
  }

  read(path: ArmPath, kind: Kind, apiVersion: string, requestId: string): HttpResponse {
    const r = this.get(path.id);
    if (!r) this.notFound(path, kind.type);
    return json(200, this.render(r, this.ctx(path, apiVersion)), requestId);
  }

  put(path: ArmPath, kind: Kind, body: Record<string, unknown>, apiVersion: string, requestId: string) {
    const name = path.names.at(-1) ?? "";
    const why = kind.nameRule?.(name);
    if (why !== undefined) throw armErrors.invalidName(kind.type, name, why);
    this.requireParents(path);
    const existing = this.get(path.id);
    const ctx = this.ctx(path, apiVersion);
    const built = kind.put(body, ctx, existing);
    const now = this.host.now();
    const r: Res = {
      id: existing?.id ?? path.id,
      type: kind.type,
      name: existing?.name ?? name,
      resourceGroup: path.resourceGroup,
      ...built,
      createdAt: existing?.createdAt ?? now,
      readyAt: now + kind.createMs * this.host.scale,
      etag: this.host.rng.uuid(),
      hidden: { ...(built.hidden ?? {}), ...(existing ? { updated: true } : {}) },
    };
    this.host.state.resources[lower(r.id)] = r;
    const status = existing ? 200 : 201;
    return this.answer(kind.putStyle, "put", r, path, apiVersion, requestId, status, r.readyAt);
  }

  /** PATCH: tags (every type), plus what the type's `put` accepts when merged onto the stored body. */
  patch(path: ArmPath, kind: Kind, body: Record<string, unknown>, apiVersion: string, requestId: string) {
    const r = this.get(path.id);
    if (!r) this.notFound(path, kind.type);
    // UpdateTags (a body of tags only) changes nothing else and provisions nothing.
    if (Object.keys(body).every((k) => k === "tags")) {
      r.tags = tags(body) ?? {};
      r.etag = this.host.rng.uuid();
      return json(200, this.render(r, this.ctx(path, apiVersion)), requestId);
    }
    const current = this.render(r, this.ctx(path, apiVersion));
    const merged: Record<string, unknown> = { ...current, ...body };
    if (body.properties && typeof body.properties === "object")
      merged.properties = { ...(current.properties as object), ...(body.properties as object) };
    return this.put(path, kind, merged, apiVersion, requestId);
  }

  delete(path: ArmPath, kind: Kind, apiVersion: string, requestId: string): HttpResponse {
    const r = this.get(path.id);
    if (!r) {
      if (path.resourceGroup !== undefined && path.namespace === undefined)
        throw armErrors.resourceGroupNotFound(path.resourceGroup);
      // A missing resource deletes fine: 204 (idempotent), as ARM's providers answer.
      return json(204, undefined, requestId);
    }
    const ctx = this.ctx(path, apiVersion);
    kind.beforeDelete?.(r, ctx);
    const doneAt = this.host.now() + kind.deleteMs * this.host.scale;
    this.markDeleted(r, doneAt);
    kind.afterDelete?.(r, ctx);
    return this.answer(kind.deleteStyle, "delete", r, path, apiVersion, requestId, 200, doneAt);
  }

  /** Deletion of `r` and of everything under its id, complete at `doneAt`. */
  markDeleted(r: Res, doneAt: number): void {
    const prefix = `${lower(r.id)}/`;
    for (const x of Object.values(this.host.state.resources)) {
      if (x === r || lower(x.id).startsWith(prefix)) x.deleteAt = Math.min(x.deleteAt ?? doneAt, doneAt);
    }
  }

  action(path: ArmPath, kind: Kind, action: string, body: Record<string, unknown>, v: string, rid: string) {
    const target = { ...path, id: path.id };
    const r = this.get(target.id);
    if (!r) this.notFound(path, kind.type);
    const fn = kind.actions?.[lower(action)];
    if (!fn) throw armErrors.invalid(`The action '${action}' is not supported for ${kind.type}.`, action);
    const out = fn(r, body, this.ctx(path, v));
    return this.answer(
      "location",
      "action",
      r,
      path,
      v,
      rid,
      200,
      this.host.now() + out.ms * this.host.scale,
      {
        result: out.result,
      },
    );
  }

  /** The first answer of a write, in the resource provider's style, and the operation it polls. */
  private answer(
    style: LroStyle,
    kind: Op["kind"],
    r: Res,
    path: ArmPath,
    apiVersion: string,
    requestId: string,
    status: number,
    doneAt: number,
    extra: Partial<Op> = {},
  ): HttpResponse {
    const ctx = this.ctx(path, apiVersion);
    const body = kind === "put" ? this.render(r, ctx) : undefined;
    if (style === "sync") return json(kind === "delete" ? 200 : status, body, requestId);
    const { opId, headers } = this.startOperation(kind, r.id, doneAt, path, r.location, apiVersion, extra);
    if (style === "async" || style === "accepted")
      headers["azure-asyncoperation"] = headers.location!.replace(
        `/operationResults/${opId}`,
        `/operations/${opId}`,
      );
    if (kind === "put" && style === "async") return json(status, body, requestId, headers);
    return json(202, undefined, requestId, headers);
  }

  /** Records an operation done at `doneAt`; returns its id and the `Location` (with `Retry-After`) to poll. */
  startOperation(
    kind: Op["kind"],
    resourceId: string,
    doneAt: number,
    path: ArmPath,
    location: string | undefined,
    apiVersion: string,
    extra: Partial<Op> = {},
  ): { opId: string; headers: Record<string, string> } {
    const op: Op = {
      id: this.host.rng.uuid(),
      kind,
      resourceId,
      startedAt: this.host.now(),
      doneAt,
      ...extra,
    };
    this.host.state.operations[op.id] = op;
    const where = `${this.host.base()}/subscriptions/${path.subscription}/providers/${path.namespace ?? "Microsoft.Resources"}/locations/${location ?? "global"}`;
    const q = `?api-version=${encodeURIComponent(apiVersion)}`;
    return {
      opId: op.id,
      headers: {
        location: `${where}/operationResults/${op.id}${q}`,
        // Retry-After in whole seconds, scaled: 0 under test scales (clients then poll at their own interval).
        "retry-after": String(Math.round(10 * this.host.scale)),
      },
    };
  }

  /** `GET …/operations/{id}`: always 200 with the status document. */
  operationStatus(opId: string, requestId: string): HttpResponse {
    const op = this.host.state.operations[opId];
    if (!op) throw armErrors.resourceNotFound("operations", opId, "");
    const done = this.host.now() >= op.doneAt;
    const status = !done ? "InProgress" : op.error ? "Failed" : "Succeeded";
    return json(
      200,
      {
        id: op.id,
        name: op.id,
        status,
        startTime: new Date(op.startedAt).toISOString(),
        ...(done ? { endTime: new Date(op.doneAt).toISOString() } : {}),
        ...(done && op.error ? { error: op.error } : {}),
      },
      requestId,
    );
  }

  /** `GET …/operationResults/{id}`: 202 while running, then what the synchronous call would have answered. */
  operationResult(opId: string, path: ArmPath, apiVersion: string, requestId: string): HttpResponse {
    const op = this.host.state.operations[opId];
    if (!op) throw armErrors.resourceNotFound("operationResults", opId, "");
    if (this.host.now() < op.doneAt)
      return json(202, undefined, requestId, { "retry-after": String(Math.round(10 * this.host.scale)) });
    if (op.error) return json(400, { error: op.error }, requestId);
    if (op.kind === "delete") return json(204, undefined, requestId);
    if (op.kind === "action")
      return op.result === undefined ? json(204, undefined, requestId) : json(200, op.result, requestId);
    const r = this.get(op.resourceId);
    if (!r) throw armErrors.resourceNotFound("resource", op.resourceId, "");
    return json(200, this.render(r, this.ctx(path, apiVersion)), requestId);
  }
}
