/**
 * What differs per compute collection: defaults and checks on insert, how long the operation takes, what a
 * read derives (instance status, an address in use, a group's size) and the custom verbs (setMetadata, start,
 * stop, addInstances, getHealth…). Durations are at time scale 1 and scaled by the operation.
 */
import type { ComputeCore as Compute } from "./compute-core.js";
import { GcpError, gcpErrors } from "./errors.js";
import { healthVerbs } from "./health.js";
import { type ComputeResource, intToIp, ipToInt, refPath, selfLink, statusAt } from "./model.js";

/** A stored collection: its proto kind, its API (client) name and its insert duration. */
interface CollectionSpec {
  readonly kind: string;
  readonly api: string;
  readonly insertMs: number;
  readonly deleteMs: number;
}

const spec = (kind: string, api: string, insertMs = 5_000, deleteMs = 5_000): CollectionSpec => ({
  kind: `compute#${kind}`,
  api,
  insertMs,
  deleteMs,
});

/** `scope:collection` → spec: the collections this emulator stores. */
export const COLLECTIONS: Readonly<Record<string, CollectionSpec>> = {
  "global:networks": spec("network", "networks", 20_000, 20_000),
  "region:subnetworks": spec("subnetwork", "subnetworks", 10_000, 10_000),
  "global:firewalls": spec("firewall", "firewalls", 8_000, 8_000),
  "zone:instances": spec("instance", "instances", 15_000, 40_000),
  "region:addresses": spec("address", "addresses"),
  "global:addresses": spec("address", "globalAddresses"),
  "zone:instanceGroups": spec("instanceGroup", "instanceGroups"),
  "region:healthChecks": spec("healthCheck", "regionHealthChecks"),
  "global:healthChecks": spec("healthCheck", "healthChecks"),
  "region:backendServices": spec("backendService", "regionBackendServices", 10_000, 10_000),
  "global:backendServices": spec("backendService", "backendServices", 10_000, 10_000),
  "region:forwardingRules": spec("forwardingRule", "forwardingRules", 15_000, 10_000),
  "global:forwardingRules": spec("forwardingRule", "globalForwardingRules", 30_000, 15_000),
  "global:urlMaps": spec("urlMap", "urlMaps"),
  "global:targetHttpProxies": spec("targetHttpProxy", "targetHttpProxies"),
  "global:targetHttpsProxies": spec("targetHttpsProxy", "targetHttpsProxies"),
  "global:sslCertificates": spec("sslCertificate", "sslCertificates"),
};

/** Public image families (project/family) the emulator offers (https://cloud.google.com/compute/docs/images/os-details). */
const IMAGE_FAMILIES: Readonly<Record<string, string>> = {
  "ubuntu-os-cloud/ubuntu-2404-lts-amd64": "ubuntu-2404-noble-amd64-v20260101",
  "ubuntu-os-cloud/ubuntu-2404-lts-arm64": "ubuntu-2404-noble-arm64-v20260101",
  "ubuntu-os-cloud/ubuntu-2204-lts": "ubuntu-2204-jammy-v20260101",
  "debian-cloud/debian-12": "debian-12-bookworm-v20260101",
};

/** Predefined machine types (https://cloud.google.com/compute/docs/general-purpose-machines). */
const MACHINE_TYPE =
  /^(e2-(micro|small|medium)|(e2|n2|n2d|n4|c3|c4|t2d)-(standard|highmem|highcpu)-\d{1,3}|(e2|n2|n2d)-custom-\d+-\d+)$/;

type Action = (
  r: ComputeResource,
  body: Record<string, unknown>,
  requestId: string | null,
) => Record<string, unknown>;

const fingerprint = (c: Compute) => Buffer.from(c.rng.hex(16), "hex").toString("base64");

export class Kinds {
  constructor(private readonly c: Compute) {}

  /** Fills defaults and checks the body of a new resource; returns its insert duration. */
  prepare(r: ComputeResource): number {
    const b = r.body;
    const s = COLLECTIONS[`${r.scope.kind}:${r.collection}`]!;
    switch (r.collection) {
      case "instances":
        this.prepareInstance(r);
        break;
      case "firewalls":
        b.direction ??= "INGRESS";
        b.priority ??= 1000;
        b.network ??= selfLink(`projects/${r.project}/global/networks/default`);
        if (!Array.isArray(b.allowed) && !Array.isArray(b.denied))
          throw gcpErrors.invalid(
            "Invalid value for field 'resource.allowed': ''. Must specify at least one rule.",
          );
        if (b.direction === "INGRESS" && !b.sourceRanges && !b.sourceTags && !b.sourceServiceAccounts)
          b.sourceRanges = ["0.0.0.0/0"];
        break;
      case "addresses":
        b.addressType ??= "EXTERNAL";
        if (b.addressType === "EXTERNAL") b.networkTier ??= "PREMIUM";
        b.address ??= this.externalIp();
        b.labelFingerprint = fingerprint(this.c);
        break;
      case "instanceGroups":
        b.network ??= selfLink(`projects/${r.project}/global/networks/default`);
        b.fingerprint = fingerprint(this.c);
        r.body.__members = [];
        break;
      case "healthChecks": {
        const type = String(b.type ?? "");
        const key = `${type.toLowerCase()}HealthCheck`;
        if (
          !["TCP", "HTTP", "HTTPS", "SSL", "HTTP2", "GRPC"].includes(type) ||
          !b[key.replace("http2", "http2")]
        )
          throw gcpErrors.invalid(
            `Invalid value for field 'resource.type': '${type}'. The health check needs ${key}.`,
          );
        b.checkIntervalSec ??= 5;
        b.timeoutSec ??= 5;
        b.healthyThreshold ??= 2;
        b.unhealthyThreshold ??= 2;
        break;
      }
      case "backendServices":
        if (!Array.isArray(b.healthChecks) || b.healthChecks.length === 0)
          throw gcpErrors.invalid(
            "Invalid value for field 'resource.healthChecks': ''. A backend service needs a health check.",
          );
        b.fingerprint = fingerprint(this.c);
        break;
      case "forwardingRules": {
        const ref = typeof b.IPAddress === "string" ? refPath(b.IPAddress, r.project) : undefined;
        // The API stores the address itself; a reference to a reserved address resolves to its IP.
        if (ref) b.IPAddress = String(this.c.get(ref).body.address);
        b.IPAddress ??= this.externalIp();
        b.IPProtocol ??= "TCP";
        b.labelFingerprint = fingerprint(this.c);
        if (!b.backendService && !b.target)
          throw gcpErrors.invalid(
            "Invalid value for field 'resource.target': ''. A forwarding rule needs a target or a backend service.",
          );
        break;
      }
      case "sslCertificates":
        r.timeline = [
          { at: this.c.now, status: "PROVISIONING" },
          { at: this.c.now + Math.round(600_000 * this.c.timeScale), status: "ACTIVE" },
        ];
        break;
    }
    return s.insertMs;
  }

  /** Side effects of a delete that starts now; returns its duration. */
  teardown(r: ComputeResource): number {
    const s = COLLECTIONS[`${r.scope.kind}:${r.collection}`]!;
    if (r.collection === "instances") {
      r.timeline = [...(r.timeline ?? []), { at: this.c.now, status: "STOPPING" }];
      for (const g of Object.values(this.c.store.compute))
        if (g.collection === "instanceGroups")
          g.body.__members = ((g.body.__members as string[]) ?? []).filter((m) => m !== r.path);
    }
    return s.deleteMs;
  }

  /** Fields a read derives from the stored ones. */
  decorate(r: ComputeResource, out: Record<string, unknown>): Record<string, unknown> {
    const status = statusAt(r.timeline, this.c.now);
    if (r.collection === "instances") out.status = status;
    if (r.collection === "sslCertificates" && out.type === "MANAGED")
      out.managed = { ...(out.managed as object), status };
    if (r.collection === "addresses") {
      const users = Object.values(this.c.store.compute).filter(
        (o) =>
          o.collection === "forwardingRules" &&
          o.body.IPAddress === r.body.address &&
          o.deleteAt === undefined,
      );
      out.status = users.length > 0 ? "IN_USE" : "RESERVED";
      if (users.length > 0) out.users = users.map((u) => selfLink(u.path));
    }
    if (r.collection === "instanceGroups") {
      out.size = ((r.body.__members as string[]) ?? []).length;
    }
    return out;
  }

  imageFromFamily(project: string, family: string): Record<string, unknown> {
    const name = IMAGE_FAMILIES[`${project}/${family}`];
    if (!name) throw gcpErrors.notFound(`projects/${project}/global/images/family/${family}`);
    return {
      kind: "compute#image",
      id: String(5_000_000_000 + name.length),
      name,
      family,
      status: "READY",
      architecture: family.includes("arm64") ? "ARM64" : "X86_64",
      selfLink: selfLink(`projects/${project}/global/images/${name}`),
    };
  }

  /** The custom verb `action` of a collection, or undefined when it has none of that name. */
  action(api: string, action: string): Action | undefined {
    const op = (r: ComputeResource, type: string, ms: number, requestId: string | null) =>
      this.c.ops.json(
        this.c.ops.start({
          project: r.project,
          scope: r.scope,
          type,
          targetPath: r.path,
          targetId: r.id,
          durationMs: ms,
          requestId,
        }),
      );
    const live = (r: ComputeResource) => {
      if (r.deleteAt !== undefined) throw gcpErrors.notFound(r.path);
    };
    const verbs: Record<string, Record<string, Action>> = {
      instances: {
        setMetadata: (r, body, id) => {
          live(r);
          const current = r.body.metadata as { fingerprint?: string } | undefined;
          if (body.fingerprint !== current?.fingerprint)
            throw new GcpError(
              412,
              "conditionNotMet",
              "Supplied fingerprint does not match current metadata fingerprint.",
            );
          r.body.metadata = {
            items: body.items ?? [],
            fingerprint: fingerprint(this.c),
            kind: "compute#metadata",
          };
          return op(r, "setMetadata", 2_000, id);
        },
        setLabels: (r, body, id) => {
          live(r);
          if (body.labelFingerprint !== r.body.labelFingerprint)
            throw new GcpError(
              412,
              "conditionNotMet",
              "Labels fingerprint either invalid or resource labels have changed",
            );
          r.body.labels = body.labels ?? {};
          r.body.labelFingerprint = fingerprint(this.c);
          return op(r, "setLabels", 2_000, id);
        },
        stop: (r, _b, id) => {
          live(r);
          const now = this.c.now;
          r.timeline = [
            ...(r.timeline ?? []),
            { at: now, status: "STOPPING" },
            { at: now + Math.round(20_000 * this.c.timeScale), status: "TERMINATED" },
          ];
          return op(r, "stop", 20_000, id);
        },
        start: (r, _b, id) => {
          live(r);
          const now = this.c.now;
          r.timeline = [
            ...(r.timeline ?? []),
            { at: now, status: "STAGING" },
            { at: now + Math.round(15_000 * this.c.timeScale), status: "RUNNING" },
          ];
          r.body.__startedAt = now + Math.round(15_000 * this.c.timeScale);
          return op(r, "start", 15_000, id);
        },
      },
      instanceGroups: {
        addInstances: (r, body, id) => {
          const members = new Set((r.body.__members as string[]) ?? []);
          for (const ref of (body.instances as { instance?: string }[] | undefined) ?? []) {
            const path = refPath(ref.instance ?? "", r.project);
            const inst = path ? this.c.find(path) : undefined;
            if (!path || !inst) throw gcpErrors.notFound(String(ref.instance));
            if (inst.scope.name !== r.scope.name)
              throw gcpErrors.invalid(
                `Instance ${inst.name} is not in zone ${r.scope.name} of the instance group.`,
              );
            if (members.has(path))
              throw gcpErrors.invalid(`Resource '${path}' is already a member of '${r.path}'`);
            members.add(path);
          }
          r.body.__members = [...members];
          return op(r, "addInstances", 3_000, id);
        },
        removeInstances: (r, body, id) => {
          const gone = new Set(
            ((body.instances as { instance?: string }[] | undefined) ?? []).map((i) =>
              refPath(i.instance ?? "", r.project),
            ),
          );
          r.body.__members = ((r.body.__members as string[]) ?? []).filter((m) => !gone.has(m));
          return op(r, "removeInstances", 3_000, id);
        },
        setNamedPorts: (r, body, id) => {
          r.body.namedPorts = body.namedPorts ?? [];
          return op(r, "setNamedPorts", 2_000, id);
        },
        listInstances: (r) => ({
          kind: "compute#instanceGroupsListInstances",
          id: r.path,
          items: ((r.body.__members as string[]) ?? []).map((m) => ({
            instance: selfLink(m),
            status: statusAt(this.c.find(m)?.timeline, this.c.now) ?? "TERMINATED",
          })),
        }),
      },
    };
    const health = healthVerbs(this.c, () => new Set(this.c.store.unhealthy));
    verbs.regionBackendServices = health;
    verbs.backendServices = health;
    return verbs[api]?.[action];
  }

  private prepareInstance(r: ComputeResource): void {
    const b = r.body;
    const zone = r.scope.name;
    const mt =
      String(b.machineType ?? "")
        .split("/")
        .pop() ?? "";
    if (!MACHINE_TYPE.test(mt))
      throw gcpErrors.notFound(`projects/${r.project}/zones/${zone}/machineTypes/${mt}`);
    const disks = (b.disks as Record<string, unknown>[] | undefined) ?? [];
    const boot = disks.find((d) => d.boot === true);
    const init = boot?.initializeParams as Record<string, unknown> | undefined;
    if (!boot || !init)
      throw gcpErrors.invalid("Invalid value for field 'resource.disks': ''. A boot disk is required.");
    const image = String(init.sourceImage ?? "")
      .replace(/^.*\/projects\//, "")
      .replace(/^projects\//, "");
    const m = /^([^/]+)\/global\/images\/family\/([^/]+)$/.exec(image);
    if (!m || !IMAGE_FAMILIES[`${m[1]}/${m[2]}`]) throw gcpErrors.notFound(`projects/${image}`);
    if (init.diskSizeGb !== undefined && Number(init.diskSizeGb) < 10)
      throw gcpErrors.invalid(
        "Invalid value for field 'resource.disks[0].initializeParams.diskSizeGb': Requested disk size cannot be smaller than the image size (10 GB)",
      );
    const nics = (b.networkInterfaces as Record<string, unknown>[] | undefined) ?? [];
    if (nics.length === 0)
      throw gcpErrors.invalid(
        "Invalid value for field 'resource.networkInterfaces': ''. At least one is required.",
      );
    const nic = nics[0]!;
    const region = zone.replace(/-[a-z]$/, "");
    nic.network ??= selfLink(`projects/${r.project}/global/networks/default`);
    nic.subnetwork ??= selfLink(`projects/${r.project}/regions/${region}/subnetworks/default`);
    const subnetPath = refPath(String(nic.subnetwork), r.project)!;
    const subnet = this.c.get(subnetPath);
    if (!subnetPath.includes(`/regions/${region}/`))
      throw gcpErrors.invalid(`Subnetwork ${subnetPath} is not in region ${region}.`);
    nic.networkIP ??= this.internalIp(subnetPath, String(subnet.body.ipCidrRange));
    nic.name = "nic0";
    for (const ac of (nic.accessConfigs as Record<string, unknown>[] | undefined) ?? []) {
      ac.natIP ??= this.externalIp();
      ac.type ??= "ONE_TO_ONE_NAT";
    }
    for (const sa of (b.serviceAccounts as { email?: string }[] | undefined) ?? [])
      if (sa.email && sa.email !== "default" && !this.c.store.iam.accounts[sa.email])
        throw gcpErrors.notFound(`projects/${r.project}/serviceAccounts/${sa.email}`);
    const meta = (b.metadata as Record<string, unknown> | undefined) ?? {};
    b.metadata = { items: meta.items ?? [], fingerprint: fingerprint(this.c), kind: "compute#metadata" };
    b.labelFingerprint = fingerprint(this.c);
    const now = this.c.now;
    const scale = this.c.timeScale;
    r.timeline = [
      { at: now, status: "PROVISIONING" },
      { at: now + Math.round(8_000 * scale), status: "STAGING" },
      { at: now + Math.round(15_000 * scale), status: "RUNNING" },
    ];
    b.__startedAt = now + Math.round(15_000 * scale);
  }

  private internalIp(subnet: string, cidr: string): string {
    const base = ipToInt(cidr.split("/")[0]!);
    const next = (this.c.store.nextHost[subnet] ?? 2) + 0;
    this.c.store.nextHost[subnet] = next + 1;
    return intToIp(base + next);
  }

  private externalIp(): string {
    const n = this.c.store.nextExternal++;
    return intToIp(ipToInt("34.120.0.0") + 10 + n);
  }
}
