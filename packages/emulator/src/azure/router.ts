/**
 * Maps an ARM request to the engine: api-version and bearer token checks, resource groups, resources and
 * their collections, POST actions, and the operation URLs the engine handed out.
 */
import type { CloudContext, CloudRequest, HttpResponse } from "../cloud.js";
import { type ArmPath, armErrors, json, parseArmPath, typeKey } from "./arm.js";
import { readToken } from "./auth.js";
import { retrieveBootDiagnosticsData } from "./boot-diagnostics.js";
import type { Body } from "./check.js";
import type { Engine } from "./engine.js";
import { VM } from "./kinds/interfaces.js";
import { deletedVaultsRoute } from "./kinds/keyvault.js";
import { ruleHealth } from "./kinds/load-balancer.js";
import { RESOURCE_GROUP } from "./kinds/resources.js";
import type { AzureState, Kind, Res } from "./model.js";

/** What the router needs of the Azure cloud (index.ts implements it; importing it here would be a cycle). */
export interface ArmHost {
  readonly ctx: CloudContext;
  readonly engine: Engine;
  readonly state: AzureState;
  /** When a VM answers its load balancer probes (boot.ts). */
  readonly boot: { servingFrom(vm: Res, now: number): number };
}

export interface ArmCall {
  service: string;
  operation: string;
  run(): HttpResponse;
}

const VERBS: Record<string, string> = {
  GET: "Get",
  PUT: "CreateOrUpdate",
  PATCH: "Update",
  DELETE: "Delete",
  POST: "Action",
  HEAD: "CheckExistence",
};

const parseBody = (text: string): Body => {
  if (text.trim() === "") return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Body;
  } catch {
    // Reported below.
  }
  throw armErrors.invalid(
    "The request content was invalid and could not be deserialized.",
    undefined,
    "InvalidRequestContent",
  );
};

/** `$filter=tagName eq 'k' and tagValue eq 'v'`, the one tag filter ARM's list calls take. */
function tagFilter(q: URLSearchParams): ((r: Res) => boolean) | undefined {
  const f = q.get("$filter");
  if (!f) return undefined;
  const name = /tagName eq '([^']*)'/i.exec(f)?.[1];
  const value = /tagValue eq '([^']*)'/i.exec(f)?.[1];
  if (name === undefined) return undefined;
  return (r) => {
    const t = r.tags ?? {};
    const key = Object.keys(t).find((k) => k.toLowerCase() === name.toLowerCase());
    return key !== undefined && (value === undefined || t[key] === value);
  };
}

export function routeArm(cloud: ArmHost, req: CloudRequest, rid: string): ArmCall | undefined {
  const listGroups = /^\/subscriptions\/([^/]+)\/resourcegroups\/?$/i.exec(req.path);
  const path = parseArmPath(req.path);
  if (!path) return undefined;
  const ns = path.namespace ?? "Microsoft.Resources";
  const service = ns.replace(/^Microsoft\./i, "").toLowerCase();
  const lastType = path.types.at(-1) ?? (path.resourceGroup ? "resourceGroups" : "subscriptions");
  const operation = `${lastType}_${VERBS[req.method] ?? req.method}`;
  const run = (): HttpResponse => {
    const apiVersion = req.query.get("api-version");
    if (!apiVersion) throw armErrors.missingApiVersion();
    authenticate(cloud, req);
    const engine = cloud.engine;
    engine.sweep();
    if (listGroups) {
      const rgs = engine.list(RESOURCE_GROUP).filter(tagFilter(req.query) ?? (() => true));
      const ctx = engine.ctx(path, apiVersion);
      return json(200, { value: rgs.map((r) => engine.render(r, ctx)) }, rid);
    }
    const deleted = deletedVaultsRoute(
      req,
      path,
      cloud.state,
      cloud.ctx.now(),
      // Vaults_PurgeDeleted's Location answers 200 once done (its swagger lists no 204).
      (doneAt) =>
        engine.startOperation("action", path.id, doneAt, path, path.names[0], apiVersion, { result: {} })
          .headers,
      rid,
    );
    if (deleted) return deleted;
    if (path.types.length === 2 && path.types[0]!.toLowerCase() === "locations" && path.names.length === 2) {
      const op = path.types[1]!.toLowerCase();
      if (op === "operations" && req.method === "GET") return engine.operationStatus(path.names[1]!, rid);
      if (op === "operationresults" && req.method === "GET")
        return engine.operationResult(path.names[1]!, path, apiVersion, rid);
    }
    if (path.namespace === undefined && path.resourceGroup !== undefined) {
      const kind = engine.kind(RESOURCE_GROUP)!;
      const rgPath: ArmPath = {
        ...path,
        types: ["resourceGroups"],
        names: [path.resourceGroup],
        id: `/subscriptions/${path.subscription}/resourceGroups/${path.resourceGroup}`,
      };
      return crud(cloud, req, rgPath, kind, apiVersion, rid);
    }
    if (path.types.length === path.names.length) {
      const kind = engine.kind(typeKey(path));
      if (!kind)
        throw armErrors.invalid(
          `The resource type '${ns}/${path.types.join("/")}' is not emulated.`,
          undefined,
          "InvalidResourceType",
        );
      checkVersion(kind, apiVersion);
      return crud(cloud, req, path, kind, apiVersion, rid);
    }
    if (req.method === "GET") {
      const kind = engine.kind(typeKey(path));
      if (!kind)
        throw armErrors.invalid(
          `The resource type '${ns}/${path.types.join("/")}' is not emulated.`,
          undefined,
          "InvalidResourceType",
        );
      const parent = path.names.length > 0 || path.scope ? path.id : rgOrSub(path);
      if (
        path.resourceGroup &&
        !engine.get(`/subscriptions/${path.subscription}/resourceGroups/${path.resourceGroup}`)
      )
        throw armErrors.resourceGroupNotFound(path.resourceGroup);
      const items = engine.list(kind.type, parent).filter(tagFilter(req.query) ?? (() => true));
      const ctx = engine.ctx(path, apiVersion);
      return json(200, { value: items.map((r) => engine.render(r, ctx)) }, rid);
    }
    if (
      req.method === "POST" &&
      lastType.toLowerCase() === "health" &&
      path.types.at(-2)?.toLowerCase() === "loadbalancingrules"
    ) {
      // LoadBalancerLoadBalancingRules_Health: answered at once (the client also takes 200).
      const lbId = path.id.split("/").slice(0, -2).join("/");
      const lb = engine.get(lbId) ?? engine.notFound(path, "Microsoft.Network/loadBalancers");
      const unhealthy = new Set(Object.keys(cloud.state.unhealthy ?? {}));
      const ctx = engine.ctx(path, apiVersion);
      const serving = (vm: Res) => cloud.boot.servingFrom(vm, ctx.now);
      return json(200, ruleHealth(lb, path.names.at(-1)!, ctx, unhealthy, serving).result, rid);
    }
    if (
      req.method === "POST" &&
      lastType.toLowerCase() === "retrievebootdiagnosticsdata" &&
      path.types.at(-2)?.toLowerCase() === "virtualmachines"
    ) {
      // VirtualMachines_RetrieveBootDiagnosticsData: synchronous, 200 with the SAS URIs (boot-diagnostics.ts).
      // The id stops before the action's name (as for every action below).
      const vm = engine.get(path.id) ?? engine.notFound({ ...path, types: path.types.slice(0, -1) }, VM);
      const ctx = engine.ctx(path, apiVersion);
      const host = { state: cloud.state, rng: cloud.ctx.rng, now: () => ctx.now, base: () => ctx.base };
      return retrieveBootDiagnosticsData(host, vm, req.query, rid);
    }
    if (req.method === "POST") {
      // The id stops before the action's name: `…/virtualMachines/vm1` for `…/virtualMachines/vm1/start`.
      const target: ArmPath = { ...path, types: path.types.slice(0, -1) };
      const kind = engine.kind(typeKey(target));
      if (!kind)
        throw armErrors.invalid(
          `The resource type '${ns}/${target.types.join("/")}' is not emulated.`,
          undefined,
          "InvalidResourceType",
        );
      return engine.action(target, kind, lastType, parseBody(req.body), apiVersion, rid);
    }
    throw armErrors.invalid(
      `The HTTP method '${req.method}' is not supported here.`,
      undefined,
      "UnsupportedHttpMethod",
    );
  };
  return { service, operation, run };
}

const rgOrSub = (p: ArmPath): string =>
  p.resourceGroup !== undefined
    ? `/subscriptions/${p.subscription}/resourceGroups/${p.resourceGroup}`
    : `/subscriptions/${p.subscription}`;

function checkVersion(kind: Kind, v: string): void {
  if (kind.apiVersions && !kind.apiVersions.includes(v))
    throw armErrors.unsupportedApiVersion(v, kind.type, kind.apiVersions);
}

function crud(
  cloud: ArmHost,
  req: CloudRequest,
  path: ArmPath,
  kind: Kind,
  v: string,
  rid: string,
): HttpResponse {
  const e = cloud.engine;
  switch (req.method) {
    case "GET":
      return e.read(path, kind, v, rid);
    case "HEAD":
      return json(e.get(path.id) ? 204 : 404, undefined, rid);
    case "PUT":
      return e.put(path, kind, parseBody(req.body), v, rid);
    case "PATCH":
      return e.patch(path, kind, parseBody(req.body), v, rid);
    case "DELETE":
      return e.delete(path, kind, v, rid);
    default:
      throw armErrors.invalid(
        `The HTTP method '${req.method}' is not supported here.`,
        undefined,
        "UnsupportedHttpMethod",
      );
  }
}

/** A bearer token this emulator issued, unexpired (ARM's 401 `InvalidAuthenticationToken` otherwise). */
function authenticate(cloud: ArmHost, req: CloudRequest): void {
  const auth = String(req.headers.authorization ?? "");
  const m = /^Bearer\s+(\S+)$/i.exec(auth);
  if (!m) throw armErrors.unauthenticated("The Authorization header is missing.");
  const claims = readToken(m[1]!);
  if (!claims) throw armErrors.unauthenticated("The access token is invalid.");
  if (claims.exp * 1000 < cloud.ctx.now())
    throw armErrors.unauthenticated("The access token expiry UTC time is earlier than current UTC time.");
}
