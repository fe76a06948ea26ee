/**
 * Cloud SQL Admin v1 as `@google-cloud/sql` calls it over REST (`fallback: true`): instances, databases and
 * users under `/v1/projects/{project}/instances`, and `/v1/projects/{project}/operations/{operation}`. Creation
 * takes minutes (PENDING_CREATE → RUNNABLE, scaled); one operation at a time per instance, another mutation
 * meanwhile is 409 `operationInProgress` ("Operation failed because another operation was already in
 * progress", as hashicorp/terraform-provider-google#4370 shows); a private IP needs private services access on
 * the network (https://cloud.google.com/sql/docs/mysql/configure-private-services-access).
 */
import type { CloudContext, CloudRequest, HttpResponse, RoutedCall } from "../cloud.js";
import { makeTlsMaterial } from "../tls.js";
import { parseBody } from "./body.js";
import type { Compute } from "./compute.js";
import { answer, faultResponse, GcpError, gcpErrors, json } from "./errors.js";
import { type GcpState, intToIp, ipToInt, REGIONS, refPath, rfc3339, type SqlInstance } from "./model.js";
import type { MysqlBacking } from "./mysql.js";
import { enumNames, unwrap } from "./sql-enums.js";

const ROOT = "https://sqladmin.googleapis.com/v1/";
// Cloud SQL instance names: lowercase letters, digits and hyphens, starting with a letter
// (https://cloud.google.com/sql/docs/mysql/instance-settings#settings-2ndgen).
const INSTANCE_NAME = /^[a-z][-a-z0-9]{0,96}$/;
const busy = () =>
  new GcpError(
    409,
    "operationInProgress",
    "Operation failed because another operation was already in progress.",
  );

export class CloudSql {
  constructor(
    private readonly state: () => GcpState,
    private readonly ctx: CloudContext,
    private readonly compute: Compute,
    private readonly mysql: MysqlBacking | undefined,
  ) {}

  route(req: CloudRequest): RoutedCall | undefined {
    const m =
      /^\/v1\/projects\/([^/]+)\/(instances|operations)(?:\/([^/]+))?(?:\/(databases|users))?(?:\/([^/]+))?$/.exec(
        req.path,
      );
    if (!m) return undefined;
    const [, project = "", kind, name, child, childName] = m;
    const call = (operation: string, run: () => HttpResponse | Promise<HttpResponse>): RoutedCall => ({
      service: "sqladmin",
      operation,
      run: () =>
        answer(() => {
          if (!req.headers.authorization) throw gcpErrors.unauthenticated();
          this.compute.ensureProject(project);
          this.sweep();
          return run();
        }),
      fault: faultResponse,
    });
    const body = () => enumNames(parseBody(req.body)) as Record<string, unknown>;
    if (kind === "operations")
      return name && req.method === "GET"
        ? call("operations.get", () => this.operation(project, name))
        : undefined;
    if (!name) {
      if (req.method === "POST") return call("instances.insert", () => this.insert(project, body()));
      if (req.method === "GET") return call("instances.list", () => this.list(project));
      return undefined;
    }
    if (!child) {
      if (req.method === "GET")
        return call("instances.get", () => json(200, this.view(this.instance(project, name))));
      if (req.method === "PATCH") return call("instances.patch", () => this.patch(project, name, body()));
      if (req.method === "DELETE") return call("instances.delete", () => this.remove(project, name));
      return undefined;
    }
    if (child === "databases") {
      if (req.method === "POST" && !childName)
        return call("databases.insert", () => this.addDatabase(project, name, body()));
      if (req.method === "GET" && !childName)
        return call("databases.list", () => this.databases(project, name));
      if (req.method === "DELETE" && childName)
        return call("databases.delete", () => this.dropDatabase(project, name, childName));
      return undefined;
    }
    if (req.method === "POST" && !childName)
      return call("users.insert", () => this.addUser(project, name, body()));
    if (req.method === "GET" && !childName) return call("users.list", () => this.users(project, name));
    return undefined;
  }

  /** Instances whose delete finished are gone (their proxies closed). */
  sweep(): void {
    const now = this.ctx.now();
    for (const [key, i] of Object.entries(this.state().sql.instances)) {
      if (i.deleteAt === undefined || i.deleteAt > now) continue;
      delete this.state().sql.instances[key];
      void this.mysql?.closeProxy(key);
    }
  }

  instance(project: string, name: string): SqlInstance {
    const i = this.state().sql.instances[`${project}/${name}`];
    if (!i || i.deleteAt !== undefined)
      throw new GcpError(404, "instanceDoesNotExist", "The Cloud SQL instance does not exist.");
    return i;
  }

  view(i: SqlInstance): Record<string, unknown> {
    const now = this.ctx.now();
    return {
      kind: "sql#instance",
      ...i.body,
      state: i.deleteAt !== undefined ? "PENDING_DELETE" : now < i.readyAt ? "PENDING_CREATE" : "RUNNABLE",
      selfLink: `${ROOT}projects/${i.project}/instances/${i.name}`,
    };
  }

  private startOp(i: SqlInstance, type: string, ms: number, error?: { code: string; message: string }) {
    const now = this.ctx.now();
    const op = {
      project: i.project,
      name: this.ctx.rng.uuid(),
      operationType: type,
      targetId: i.name,
      insertAt: now,
      startAt: now + Math.round(1_000 * this.ctx.timeScale),
      doneAt: now + Math.round(ms * this.ctx.timeScale),
      ...(error ? { error } : {}),
    };
    this.state().sql.operations[`${i.project}/${op.name}`] = op;
    i.busyUntil = op.doneAt;
    return json(200, this.opJson(op));
  }

  private opJson(op: GcpState["sql"]["operations"][string]): Record<string, unknown> {
    const now = this.ctx.now();
    const status = now >= op.doneAt ? "DONE" : now >= op.startAt ? "RUNNING" : "PENDING";
    return {
      kind: "sql#operation",
      name: op.name,
      status,
      operationType: op.operationType,
      targetId: op.targetId,
      targetProject: op.project,
      targetLink: `${ROOT}projects/${op.project}/instances/${op.targetId}`,
      user: "k3sinfra-emulator@developer.gserviceaccount.com",
      insertTime: rfc3339(op.insertAt).replace("-00:00", "Z"),
      ...(status !== "PENDING" ? { startTime: rfc3339(op.startAt).replace("-00:00", "Z") } : {}),
      ...(status === "DONE" ? { endTime: rfc3339(op.doneAt).replace("-00:00", "Z") } : {}),
      ...(status === "DONE" && op.error
        ? { error: { kind: "sql#operationErrors", errors: [{ kind: "sql#operationError", ...op.error }] } }
        : {}),
      selfLink: `${ROOT}projects/${op.project}/operations/${op.name}`,
    };
  }

  private operation(project: string, name: string): HttpResponse {
    const op = this.state().sql.operations[`${project}/${name}`];
    if (!op) throw gcpErrors.notFound(`projects/${project}/operations/${name}`);
    return json(200, this.opJson(op));
  }

  private list(project: string): HttpResponse {
    const items = Object.values(this.state().sql.instances)
      .filter((i) => i.project === project && i.deleteAt === undefined)
      .map((i) => this.view(i));
    return json(200, { kind: "sql#instancesList", items });
  }

  private async insert(project: string, b: Record<string, unknown>): Promise<HttpResponse> {
    const name = String(b.name ?? "");
    if (!INSTANCE_NAME.test(name)) throw gcpErrors.invalid(`Invalid request: instance name (${name}).`);
    const key = `${project}/${name}`;
    if (this.state().sql.instances[key])
      throw new GcpError(409, "instanceAlreadyExists", "The Cloud SQL instance already exists.");
    const region = String(b.region ?? "");
    if (!REGIONS[region])
      throw gcpErrors.invalid(`Invalid request: region (${region}) is not a Cloud SQL region.`);
    const settings = { ...((b.settings as Record<string, unknown> | undefined) ?? {}) };
    if (
      typeof settings.tier !== "string" ||
      !/^db-(custom-\d+-\d+|n1-\w+-\d+|perf-optimized-N-\d+|f1-micro|g1-small)$/.test(settings.tier)
    )
      throw gcpErrors.invalid(
        `Invalid request: Invalid Tier (${String(settings.tier)}) for (${settings.edition ?? "ENTERPRISE"}) Edition.`,
      );
    if (!["MYSQL_5_7", "MYSQL_8_0", "MYSQL_8_4"].includes(String(b.databaseVersion)))
      throw gcpErrors.invalid(`Invalid request: Invalid database version ${String(b.databaseVersion)}.`);
    const ip = { ...((settings.ipConfiguration as Record<string, unknown> | undefined) ?? {}) };
    ip.ipv4Enabled = unwrap(ip.ipv4Enabled) ?? true;
    const ips: { type: string; ipAddress: string }[] = [];
    if (ip.privateNetwork) {
      const path = refPath(String(ip.privateNetwork), project);
      const network = path ? this.compute.find(path) : undefined;
      if (!network) throw gcpErrors.notFound(String(ip.privateNetwork));
      const peered = ((network.body.peerings as { name?: string; state?: string }[] | undefined) ?? []).some(
        (p) => p.name === "servicenetworking-googleapis-com" && p.state === "ACTIVE",
      );
      if (!peered)
        throw new GcpError(
          400,
          "invalid",
          `Invalid request: Incorrect Service Networking config for instance: ${project}:${name}:SERVICE_NETWORKING_NOT_ENABLED. The network ${network.name} has no private services access connection.`,
        );
      ips.push({ type: "PRIVATE", ipAddress: this.nextIp("10.80.0.0") });
    }
    if (ip.ipv4Enabled === true) ips.push({ type: "PRIMARY", ipAddress: this.nextIp("35.200.0.0") });
    if (ips.length === 0)
      throw gcpErrors.invalid(
        "Invalid request: At least one of public IP or private IP or PSC connectivity must be enabled.",
      );
    settings.ipConfiguration = ip;
    settings.settingsVersion = "1";
    settings.deletionProtectionEnabled = unwrap(settings.deletionProtectionEnabled) ?? false;
    const zone = `${region}-${region === "us-central1" ? "c" : "b"}`;
    const { caPem } = makeTlsMaterial(ips[0]!.ipAddress);
    const now = this.ctx.now();
    const instance: SqlInstance = {
      project,
      name,
      body: {
        name,
        project,
        region,
        gceZone: zone,
        databaseVersion: b.databaseVersion,
        databaseInstalledVersion: `${String(b.databaseVersion)}_${b.databaseVersion === "MYSQL_8_4" ? "6" : "43"}`,
        backendType: "SECOND_GEN",
        instanceType: "CLOUD_SQL_INSTANCE",
        connectionName: `${project}:${region}:${name}`,
        ipAddresses: ips,
        serverCaCert: {
          kind: "sql#sslCert",
          cert: caPem,
          commonName: `C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA`,
          instance: name,
        },
        settings,
        createTime: rfc3339(now).replace("-00:00", "Z"),
      },
      readyAt: now + Math.round(480_000 * this.ctx.timeScale),
      busyUntil: 0,
      databases: {},
      users: ["root@%"],
    };
    this.state().sql.instances[`${project}/${name}`] = instance;
    if (this.mysql) instance.connectPort = await this.mysql.openProxy(`${project}/${name}`);
    return this.startOp(instance, "CREATE", 480_000);
  }

  private nextIp(base: string): string {
    const n = this.state().nextExternal++;
    return intToIp(ipToInt(base) + 2 + n);
  }

  private guard(i: SqlInstance): void {
    const now = this.ctx.now();
    if (now < i.busyUntil) throw busy();
  }

  private patch(project: string, name: string, b: Record<string, unknown>): HttpResponse {
    const i = this.instance(project, name);
    this.guard(i);
    const patch = (b.settings as Record<string, unknown> | undefined) ?? {};
    const settings = { ...(i.body.settings as Record<string, unknown>) };
    for (const [k, v] of Object.entries(patch)) {
      // The REST client serialises unset maps and messages as `{}`: in a patch they mean "not given"
      // (https://cloud.google.com/sql/docs/mysql/admin-api/rest/v1/instances/patch: "patch semantics").
      if (v && typeof v === "object" && Object.keys(v).length === 0) continue;
      if (k === "ipConfiguration") settings[k] = { ...(settings[k] as object), ...(v as object) };
      else settings[k] = unwrap(v);
    }
    settings.settingsVersion = String(Number(settings.settingsVersion ?? 1) + 1);
    i.body.settings = settings;
    return this.startOp(i, "UPDATE", 60_000);
  }

  private remove(project: string, name: string): HttpResponse {
    const i = this.instance(project, name);
    this.guard(i);
    if ((i.body.settings as { deletionProtectionEnabled?: boolean }).deletionProtectionEnabled)
      throw gcpErrors.invalid(
        "The instance or operation is not in an appropriate state to handle the request. Deletion protection is enabled: turn it off (settings.deletionProtectionEnabled) first.",
      );
    const res = this.startOp(i, "DELETE", 60_000);
    i.deleteAt = i.busyUntil;
    return res;
  }

  private async addDatabase(
    project: string,
    name: string,
    b: Record<string, unknown>,
  ): Promise<HttpResponse> {
    const i = this.instance(project, name);
    this.guard(i);
    const db = String(b.name ?? "");
    if (!/^[A-Za-z0-9_$-]{1,64}$/.test(db)) throw gcpErrors.invalid(`Invalid request: database name ${db}.`);
    if (i.databases[db]) throw new GcpError(409, "alreadyExists", `The database ${db} already exists.`);
    i.databases[db] = {
      charset: String(b.charset ?? "utf8mb4"),
      collation: String(b.collation ?? "utf8mb4_0900_ai_ci"),
    };
    if (this.mysql) await this.mysql.run([[`CREATE DATABASE IF NOT EXISTS \`${db.replace(/`/g, "")}\``, []]]);
    return this.startOp(i, "CREATE_DATABASE", 5_000);
  }

  private dropDatabase(project: string, name: string, db: string): HttpResponse {
    const i = this.instance(project, name);
    this.guard(i);
    if (!i.databases[db]) throw gcpErrors.notFound(db);
    delete i.databases[db];
    return this.startOp(i, "DELETE_DATABASE", 5_000);
  }

  private databases(project: string, name: string): HttpResponse {
    const i = this.instance(project, name);
    return json(200, {
      kind: "sql#databasesList",
      items: Object.entries(i.databases).map(([db, d]) => ({
        kind: "sql#database",
        name: db,
        instance: name,
        project,
        ...d,
      })),
    });
  }

  private async addUser(project: string, name: string, b: Record<string, unknown>): Promise<HttpResponse> {
    const i = this.instance(project, name);
    this.guard(i);
    const user = String(b.name ?? "");
    const host = String(b.host ?? "%");
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(user)) throw gcpErrors.invalid(`Invalid request: user name ${user}.`);
    if (i.users.includes(`${user}@${host}`))
      throw new GcpError(409, "alreadyExists", `The user ${user} already exists.`);
    i.users.push(`${user}@${host}`);
    // The password goes to the backing server only; the emulator's state never keeps it.
    if (this.mysql && typeof b.password === "string")
      await this.mysql.run([
        ["CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", [user, b.password]],
        ["ALTER USER ?@'%' IDENTIFIED BY ?", [user, b.password]],
        ["GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION", [user]],
      ]);
    return this.startOp(i, "CREATE_USER", 5_000);
  }

  private users(project: string, name: string): HttpResponse {
    const i = this.instance(project, name);
    return json(200, {
      kind: "sql#usersList",
      items: i.users.map((u) => {
        const [user, host] = u.split("@");
        return { kind: "sql#user", name: user, host, instance: name, project };
      }),
    });
  }
}
