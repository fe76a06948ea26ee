/**
 * Secret Manager v1 (`/v1/projects/{project}/secrets…`, the routes of the secret-manager package's protos):
 * secrets with labels, versions (payload base64, `latest` alias), access, and per-secret IAM policies that
 * decide what a service account may do: `roles/secretmanager.secretAccessor` reads versions,
 * `roles/secretmanager.secretVersionAdder` adds them (https://cloud.google.com/secret-manager/docs/access-control).
 * Values are sealed at rest (AES-256-GCM) so the state file never holds them in clear.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { CloudContext, CloudRequest, HttpResponse, RoutedCall } from "../cloud.js";
import { parseBody } from "./body.js";
import { answer, faultResponse, GcpError, gcpErrors, json } from "./errors.js";
import type { Iam, Principal } from "./iam.js";
import type { GcpState, StoredSecret } from "./model.js";

// Secret ids: letters, digits, hyphens and underscores, at most 255 (https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets/create).
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
const READ = new Set(["roles/secretmanager.secretAccessor", "roles/secretmanager.admin", "roles/owner"]);
const ADD = new Set([
  "roles/secretmanager.secretVersionAdder",
  "roles/secretmanager.secretVersionManager",
  "roles/secretmanager.admin",
  "roles/owner",
]);
// A payload is at most 64 KiB (https://cloud.google.com/secret-manager/quotas).
const MAX_PAYLOAD = 65_536;

export class SecretManager {
  constructor(
    private readonly state: () => GcpState,
    private readonly ctx: CloudContext,
    private readonly iam: Iam,
  ) {}

  route(req: CloudRequest): RoutedCall | undefined {
    const m =
      /^\/v1\/projects\/([^/]+)\/secrets(?:\/([^/:]+)(?:\/versions(?:\/([^/:]+))?)?)?(?::([A-Za-z]+))?$/.exec(
        req.path,
      );
    if (!m) return undefined;
    const [, project = "", name, version, verb] = m;
    const isVersions = req.path.includes("/versions");
    const call = (operation: string, run: (who: Principal) => HttpResponse): RoutedCall => ({
      service: "secretmanager",
      operation,
      run: () => answer(() => run(this.iam.principal(req))),
      fault: faultResponse,
    });
    const owner = (who: Principal, permission: string) => {
      if (who.kind !== "owner")
        throw new GcpError(
          403,
          "forbidden",
          `Permission '${permission}' denied for resource (or it may not exist).`,
        );
    };
    const ownerOnly =
      (permission: string, run: () => HttpResponse) =>
      (who: Principal): HttpResponse => {
        owner(who, permission);
        return run();
      };
    if (!name) {
      if (req.method === "POST")
        return call(
          "secrets.create",
          ownerOnly("secretmanager.secrets.create", () =>
            this.create(project, req.query.get("secretId") ?? "", parseBody(req.body)),
          ),
        );
      if (req.method === "GET")
        return call(
          "secrets.list",
          ownerOnly("secretmanager.secrets.list", () => this.list(project)),
        );
      return undefined;
    }
    const key = `${project}/${name}`;
    if (isVersions && version && verb === "access" && req.method === "GET")
      return call("versions.access", (who) => this.access(key, version, who));
    if (isVersions) return undefined;
    if (verb === "addVersion" && req.method === "POST")
      return call("secrets.addVersion", (who) => this.addVersion(key, parseBody(req.body), who));
    if (verb === "setIamPolicy" && req.method === "POST")
      return call(
        "secrets.setIamPolicy",
        ownerOnly("secretmanager.secrets.setIamPolicy", () => this.setPolicy(key, parseBody(req.body))),
      );
    if (verb === "getIamPolicy" && req.method === "GET")
      return call(
        "secrets.getIamPolicy",
        ownerOnly("secretmanager.secrets.getIamPolicy", () => json(200, this.policy(this.get(key)))),
      );
    if (verb) return undefined;
    if (req.method === "GET")
      return call(
        "secrets.get",
        ownerOnly("secretmanager.secrets.get", () => json(200, this.json(this.get(key)))),
      );
    if (req.method === "DELETE")
      return call("secrets.delete", (who) => {
        owner(who, "secretmanager.secrets.delete");
        this.get(key);
        delete this.state().secrets.secrets[key];
        return json(200, {});
      });
    return undefined;
  }

  private get(key: string): StoredSecret {
    const s = this.state().secrets.secrets[key];
    if (!s) throw gcpErrors.notFound(`projects/${key.replace("/", "/secrets/")}`);
    return s;
  }

  private json(s: StoredSecret): Record<string, unknown> {
    return {
      name: `projects/${s.project}/secrets/${s.name}`,
      replication: { automatic: {} },
      createTime: s.createTime,
      labels: s.labels,
      etag: `"${s.etag}"`,
    };
  }

  private create(project: string, id: string, body: Record<string, unknown>): HttpResponse {
    if (!SECRET_ID.test(id)) throw gcpErrors.invalid(`Secret id '${id}' is invalid.`);
    const key = `${project}/${id}`;
    if (this.state().secrets.secrets[key])
      throw new GcpError(409, "alreadyExists", `Secret [projects/${project}/secrets/${id}] already exists.`);
    if (!body.replication) throw gcpErrors.invalid("Secret.replication is required.");
    const secret: StoredSecret = {
      project,
      name: id,
      labels: { ...((body.labels as Record<string, string> | undefined) ?? {}) },
      createTime: new Date(this.ctx.now()).toISOString(),
      versions: [],
      bindings: [],
      etag: 1,
    };
    this.state().secrets.secrets[key] = secret;
    return json(200, this.json(secret));
  }

  private list(project: string): HttpResponse {
    const secrets = Object.values(this.state().secrets.secrets)
      .filter((s) => s.project === project)
      .map((s) => this.json(s));
    return json(200, { secrets, totalSize: secrets.length });
  }

  /**
   * Adds a version as a service account would through the API (the boot simulation's kubeconfig write):
   * undefined when stored, else the API's refusal.
   */
  addVersionAs(project: string, name: string, value: string, email: string): string | undefined {
    try {
      this.addVersion(
        `${project}/${name}`,
        { payload: { data: Buffer.from(value).toString("base64") } },
        { kind: "serviceAccount", email },
      );
      return undefined;
    } catch (e) {
      if (e instanceof GcpError) return `${e.status} ${e.reason}: ${e.message}`;
      throw e;
    }
  }

  private allowed(s: StoredSecret, who: Principal, roles: ReadonlySet<string>): boolean {
    if (who.kind === "owner") return true;
    return s.bindings.some((b) => roles.has(b.role) && b.members.includes(`serviceAccount:${who.email}`));
  }

  private addVersion(key: string, body: Record<string, unknown>, who: Principal): HttpResponse {
    const s = this.get(key);
    if (!this.allowed(s, who, ADD))
      throw new GcpError(
        403,
        "forbidden",
        "Permission 'secretmanager.versions.add' denied for resource (or it may not exist).",
      );
    const data = String((body.payload as { data?: string } | undefined)?.data ?? "");
    const bytes = Buffer.from(data, "base64");
    if (bytes.length > MAX_PAYLOAD) throw gcpErrors.invalid("Secret payload is larger than 65536 bytes.");
    const n = (s.versions.at(-1)?.n ?? 0) + 1;
    const createTime = new Date(this.ctx.now()).toISOString();
    s.versions.push({ n, sealed: this.seal(bytes), createTime, state: "ENABLED" });
    s.etag++;
    return json(200, {
      name: `projects/${s.project}/secrets/${s.name}/versions/${n}`,
      createTime,
      state: "ENABLED",
      etag: `"${s.etag}"`,
    });
  }

  private access(key: string, version: string, who: Principal): HttpResponse {
    // A missing secret and a denied one answer alike, so a node learns nothing about secrets it may not read.
    const s = this.state().secrets.secrets[key];
    if (!s && who.kind === "owner") throw gcpErrors.notFound(`projects/${key.replace("/", "/secrets/")}`);
    if (!s || !this.allowed(s, who, READ))
      throw new GcpError(
        403,
        "forbidden",
        "Permission 'secretmanager.versions.access' denied for resource (or it may not exist).",
      );
    const v =
      version === "latest"
        ? s.versions.filter((x) => x.state === "ENABLED").at(-1)
        : s.versions.find((x) => String(x.n) === version);
    if (!v) throw gcpErrors.notFound(`projects/${s.project}/secrets/${s.name}/versions/${version}`);
    return json(200, {
      name: `projects/${s.project}/secrets/${s.name}/versions/${v.n}`,
      payload: { data: this.unseal(v.sealed).toString("base64") },
    });
  }

  private policy(s: StoredSecret): Record<string, unknown> {
    return { version: 1, bindings: s.bindings, etag: Buffer.from(String(s.etag)).toString("base64") };
  }

  private setPolicy(key: string, body: Record<string, unknown>): HttpResponse {
    const s = this.get(key);
    const policy = (body.policy as { bindings?: { role?: string; members?: string[] }[] } | undefined) ?? {};
    s.bindings = (policy.bindings ?? []).map((b) => {
      for (const m of b.members ?? [])
        if (m.startsWith("serviceAccount:") && !this.iam.account(m.slice("serviceAccount:".length)))
          throw gcpErrors.invalid(`Service account ${m.slice("serviceAccount:".length)} does not exist.`);
      return { role: String(b.role), members: [...(b.members ?? [])] };
    });
    s.etag++;
    return json(200, this.policy(s));
  }

  /** The sealing key, made on first use and kept in the state. */
  private key(): Buffer {
    if (!this.state().secrets.key) this.state().secrets.key = randomBytes(32).toString("hex");
    return Buffer.from(this.state().secrets.key, "hex");
  }

  private seal(plain: Buffer): string {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.key(), iv);
    const body = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString("base64");
  }

  private unseal(sealed: string): Buffer {
    const raw = Buffer.from(sealed, "base64");
    const d = createDecipheriv("aes-256-gcm", this.key(), raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]);
  }
}
