/**
 * Compute Engine v1 REST, as the `@google-cloud/compute` clients call it: `/compute/v1/projects/{project}/
 * {global|regions/{r}|zones/{z}}/{collection}[/{name}[/{action}]]` (the `google.api.http` rules of the
 * package's protos.json), aggregated lists, and the three operation collections with `wait`. Names are RFC 1035
 * labels, a duplicate is 409 `alreadyExists`, a reference to a missing resource is 404, and a resource another
 * one refers to refuses deletion (400 `resourceInUseByAnotherResource`).
 */
import type { CloudContext, CloudRequest, HttpResponse, RoutedCall } from "../cloud.js";
import { normalise, parseBody, refsIn } from "./body.js";
import { GcpBootTimeline } from "./boot-timeline.js";
import type { ComputeCore } from "./compute-core.js";
import { COLLECTIONS, Kinds } from "./compute-kinds.js";
import { answer, faultResponse, gcpErrors, json } from "./errors.js";
import {
  type ComputeResource,
  type GcpState,
  knownZone,
  REGIONS,
  RFC1035,
  rfc3339,
  type Scope,
  scopePath,
  selfLink,
  zonesOf,
} from "./model.js";
import { Operations } from "./operations.js";

const PREFIX = "/compute/v1/projects/";

export class Compute implements ComputeCore {
  readonly ops: Operations;
  readonly kinds: Kinds;
  /** The boot of k3sinfra servers: backend health, the serial port, injected bootstrap faults. */
  readonly boot: GcpBootTimeline;

  constructor(
    private readonly state: () => GcpState,
    private readonly ctx: CloudContext,
  ) {
    this.ops = new Operations(state, ctx);
    this.kinds = new Kinds(this);
    this.boot = new GcpBootTimeline(this);
  }

  get now(): number {
    return this.ctx.now();
  }

  get timeScale(): number {
    return this.ctx.timeScale;
  }

  /** How long a k3sinfra server takes to boot at time scale 1 (the emulator's `bootTimeMs`). */
  get bootTimeMs(): number {
    return this.ctx.options.bootTimeMs ?? 150_000;
  }

  get rng() {
    return this.ctx.rng;
  }

  get store(): GcpState {
    return this.state();
  }

  route(req: CloudRequest): RoutedCall | undefined {
    if (!req.path.startsWith(PREFIX)) return undefined;
    const parts = req.path.slice(PREFIX.length).split("/").map(decodeURIComponent);
    const project = parts.shift() ?? "";
    const call = (operation: string, run: () => HttpResponse | Promise<HttpResponse>): RoutedCall => ({
      service: "compute",
      operation,
      run: () =>
        answer(() => {
          if (!req.headers.authorization) throw gcpErrors.unauthenticated();
          this.ensureProject(project);
          this.sweep();
          return run();
        }),
      fault: faultResponse,
    });
    // Project-level lists and reads: zones, regions, aggregated lists.
    if (parts[0] === "aggregated" && parts.length === 2 && req.method === "GET")
      return call(`${parts[1]}.aggregatedList`, () => this.aggregated(project, parts[1]!));
    if (parts[0] === "zones" && parts.length <= 2 && req.method === "GET")
      return call(parts.length === 1 ? "zones.list" : "zones.get", () => this.zones(project, parts[1]));
    if (parts[0] === "regions" && parts.length === 2 && req.method === "GET")
      return call("regions.get", () => this.region(project, parts[1]!));
    let scope: Scope;
    let rest: string[];
    const head = parts[0] ?? "";
    if (head === "global") {
      scope = { kind: "global", name: "" };
      rest = parts.slice(1);
    } else if ((head === "regions" || head === "zones") && parts.length >= 3) {
      scope = { kind: head === "regions" ? "region" : "zone", name: parts[1]! };
      rest = parts.slice(2);
    } else return undefined;
    const [collection, name, action] = rest;
    if (!collection || rest.length > 3) return undefined;
    const base = `projects/${project}/${scopePath(scope)}`;
    if (collection === "operations" && name) {
      const path = `${base}/operations/${name}`;
      if (req.method === "GET" && !action)
        return call(`${scope.kind}Operations.get`, () => json(200, this.ops.json(this.ops.get(path))));
      if (req.method === "POST" && action === "wait")
        // Real waits return when DONE or after about 2 minutes; returning the current state is allowed
        // ("may return early", compute.proto ZoneOperations.Wait).
        return call(`${scope.kind}Operations.wait`, () => json(200, this.ops.json(this.ops.get(path))));
      return undefined;
    }
    if (collection === "images" && name === "family" && action && req.method === "GET")
      return call("images.getFromFamily", () => json(200, this.kinds.imageFromFamily(project, action)));
    const spec = COLLECTIONS[`${scope.kind}:${collection}`];
    if (!spec) return undefined;
    const label = `${spec.api}`;
    if (!name) {
      if (req.method === "POST")
        return call(`${label}.insert`, () => this.insert(project, scope, collection, req));
      if (req.method === "GET")
        return call(`${label}.list`, () => this.list(project, scope, collection, req));
      return undefined;
    }
    const path = `${base}/${collection}/${name}`;
    if (!action) {
      if (req.method === "GET") return call(`${label}.get`, () => json(200, this.view(this.get(path))));
      if (req.method === "DELETE") return call(`${label}.delete`, () => this.remove(path, req));
      return undefined;
    }
    if (req.method === "GET" && spec.api === "instances" && action === "serialPort")
      return call("instances.getSerialPortOutput", () =>
        json(200, this.boot.serialPort(this.get(path), req.query)),
      );
    if (req.method !== "POST") return undefined;
    const act = this.kinds.action(spec.api, action);
    if (!act) return undefined;
    return call(`${label}.${action}`, () => {
      const r = this.get(path);
      const replayed = this.ops.replay(project, req.query.get("requestId"));
      if (replayed) return json(200, this.ops.json(replayed));
      return json(200, act(r, parseBody(req.body), req.query.get("requestId")));
    });
  }

  /** A project seen for the first time gets the default network and its auto-mode subnets. */
  ensureProject(project: string): void {
    if (!/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(project)) throw gcpErrors.notFound(`projects/${project}`);
    if (this.state().projects.includes(project)) return;
    this.state().projects.push(project);
    const net = `projects/${project}/global/networks/default`;
    this.put({
      path: net,
      project,
      collection: "networks",
      scope: { kind: "global", name: "" },
      name: "default",
      id: this.newId(),
      body: {
        description: "Default network for the project",
        autoCreateSubnetworks: true,
        // Private services access as the fixture says: the peering `gcloud services vpc-peerings connect` makes
        // (https://cloud.google.com/vpc/docs/configure-private-services-access#creating-connection).
        ...(this.ctx.options.fixtures?.gcp?.privateServicesAccess
          ? {
              peerings: [
                {
                  name: "servicenetworking-googleapis-com",
                  network: selfLink("projects/servicenetworking-k3s/global/networks/servicenetworking"),
                  state: "ACTIVE",
                  exchangeSubnetRoutes: true,
                },
              ],
            }
          : {}),
      },
    });
    for (const [region, { cidr }] of Object.entries(REGIONS)) {
      this.put({
        path: `projects/${project}/regions/${region}/subnetworks/default`,
        project,
        collection: "subnetworks",
        scope: { kind: "region", name: region },
        name: "default",
        id: this.newId(),
        body: { network: selfLink(net), ipCidrRange: cidr, gatewayAddress: cidr.replace(/0\/20$/, "1") },
      });
    }
  }

  newId(): string {
    return String(1_000_000_000_000_000 + this.ctx.rng.int(8_000_000_000_000_000));
  }

  put(r: ComputeResource): void {
    this.state().compute[r.path] = r;
  }

  get(path: string): ComputeResource {
    const r = this.state().compute[path];
    if (!r) throw gcpErrors.notFound(path);
    return r;
  }

  find(path: string): ComputeResource | undefined {
    return this.state().compute[path];
  }

  healthyFrom(instance: ComputeResource): number | undefined {
    return this.boot.healthyFrom(instance);
  }

  /** Removes what finished deleting. */
  sweep(): void {
    const now = this.ctx.now();
    for (const [path, r] of Object.entries(this.state().compute))
      if (r.deleteAt !== undefined && r.deleteAt <= now) delete this.state().compute[path];
    this.ops.prune();
  }

  /** The resource as the API returns it. */
  view(r: ComputeResource): Record<string, unknown> {
    const spec = COLLECTIONS[`${r.scope.kind}:${r.collection}`];
    const out: Record<string, unknown> = {
      kind: spec?.kind ?? `compute#${r.collection}`,
      id: r.id,
      creationTimestamp: rfc3339(Number(r.body.__created ?? 0)),
      name: r.name,
      ...r.body,
      selfLink: selfLink(r.path),
    };
    for (const key of Object.keys(out)) if (key.startsWith("__")) delete out[key];
    if (r.scope.kind !== "global")
      out[r.scope.kind] = selfLink(
        `projects/${r.project}/${r.scope.kind === "zone" ? "zones" : "regions"}/${r.scope.name}`,
      );
    return this.kinds.decorate(r, out);
  }

  insert(project: string, scope: Scope, collection: string, req: CloudRequest): HttpResponse {
    const replayed = this.ops.replay(project, req.query.get("requestId"));
    if (replayed) return json(200, this.ops.json(replayed));
    if (scope.kind === "zone" && !knownZone(scope.name)) throw gcpErrors.notFound(`zones/${scope.name}`);
    if (scope.kind === "region" && !REGIONS[scope.name]) throw gcpErrors.notFound(`regions/${scope.name}`);
    const raw = parseBody(req.body);
    const name = raw.name;
    if (typeof name !== "string" || !RFC1035.test(name))
      throw gcpErrors.invalid(
        `Invalid value for field 'resource.name': '${String(name)}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
      );
    const path = `projects/${project}/${scopePath(scope)}/${collection}/${name}`;
    if (this.state().compute[path]) throw gcpErrors.alreadyExists(path);
    for (const ref of refsIn(raw, project)) {
      const m = /^projects\/[^/]+\/(global|regions|zones)\/(?:[^/]+\/)?([A-Za-z]+)\/[^/]+$/.exec(ref);
      const kind = m?.[1] === "global" ? "global" : m?.[1] === "regions" ? "region" : "zone";
      // Only references to what this project stores must exist (machine types and images are checked by kind).
      if (m && COLLECTIONS[`${kind}:${m[2]}`] && !this.state().compute[ref]) throw gcpErrors.notFound(ref);
    }
    const body = normalise(raw, project) as Record<string, unknown>;
    delete body.name;
    delete body.id;
    const r: ComputeResource = {
      path,
      project,
      collection,
      scope,
      name,
      id: this.newId(),
      body: { ...body, __created: this.ctx.now() },
    };
    const durationMs = this.kinds.prepare(r);
    this.put(r);
    const op = this.ops.start({
      project,
      scope,
      type: "insert",
      targetPath: path,
      targetId: r.id,
      durationMs,
      requestId: req.query.get("requestId"),
    });
    return json(200, this.ops.json(op));
  }

  remove(path: string, req: CloudRequest): HttpResponse {
    const r = this.get(path);
    const replayed = this.ops.replay(r.project, req.query.get("requestId"));
    if (replayed) return json(200, this.ops.json(replayed));
    if (r.deleteAt !== undefined) throw gcpErrors.notFound(path);
    for (const other of Object.values(this.state().compute)) {
      if (other.path === path || other.deleteAt !== undefined) continue;
      if (refsIn(other.body, other.project).has(path)) throw gcpErrors.inUse(path, other.path);
    }
    const durationMs = this.kinds.teardown(r);
    const op = this.ops.start({
      project: r.project,
      scope: r.scope,
      type: "delete",
      targetPath: path,
      targetId: r.id,
      durationMs,
      requestId: req.query.get("requestId"),
    });
    r.deleteAt = op.doneAt;
    return json(200, this.ops.json(op));
  }

  list(project: string, scope: Scope, collection: string, req: CloudRequest): HttpResponse {
    if (req.query.get("filter")) throw gcpErrors.invalid("The emulator does not evaluate list filters.");
    const prefix = `projects/${project}/${scopePath(scope)}/${collection}/`;
    const items = Object.values(this.state().compute)
      .filter((r) => r.path.startsWith(prefix))
      .map((r) => this.view(r));
    const spec = COLLECTIONS[`${scope.kind}:${collection}`];
    return json(200, {
      kind: `${spec?.kind ?? "compute#resource"}List`,
      id: prefix,
      items,
      selfLink: selfLink(prefix.slice(0, -1)),
    });
  }

  aggregated(project: string, collection: string): HttpResponse {
    const items: Record<string, Record<string, unknown>> = {};
    for (const r of Object.values(this.state().compute)) {
      if (r.project !== project || r.collection !== collection) continue;
      const key = scopePath(r.scope);
      const bucket = items[key] ?? { [collection]: [] };
      items[key] = bucket;
      (bucket[collection] as unknown[]).push(this.view(r));
    }
    return json(200, {
      kind: `compute#${collection.replace(/s$/, "")}AggregatedList`,
      id: `projects/${project}/aggregated/${collection}`,
      items,
      selfLink: selfLink(`projects/${project}/aggregated/${collection}`),
    });
  }

  zones(project: string, zone: string | undefined): HttpResponse {
    const zoneJson = (z: string) => ({
      kind: "compute#zone",
      id: String(2000 + zonesOf(z.replace(/-[a-z]$/, "")).indexOf(z)),
      name: z,
      status: "UP",
      region: selfLink(`projects/${project}/regions/${z.replace(/-[a-z]$/, "")}`),
      selfLink: selfLink(`projects/${project}/zones/${z}`),
    });
    if (zone) {
      if (!knownZone(zone)) throw gcpErrors.notFound(`projects/${project}/zones/${zone}`);
      return json(200, zoneJson(zone));
    }
    return json(200, {
      kind: "compute#zoneList",
      id: `projects/${project}/zones`,
      items: Object.keys(REGIONS).flatMap(zonesOf).map(zoneJson),
      selfLink: selfLink(`projects/${project}/zones`),
    });
  }

  region(project: string, region: string): HttpResponse {
    if (!REGIONS[region]) throw gcpErrors.notFound(`projects/${project}/regions/${region}`);
    return json(200, {
      kind: "compute#region",
      id: String(1000 + Object.keys(REGIONS).indexOf(region)),
      name: region,
      status: "UP",
      zones: zonesOf(region).map((z) => selfLink(`projects/${project}/zones/${z}`)),
      selfLink: selfLink(`projects/${project}/regions/${region}`),
    });
  }
}
