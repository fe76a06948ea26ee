/**
 * IAM service accounts (`iam.googleapis.com/v1/projects/{project}/serviceAccounts`) and the principal a request
 * acts as: an access token the metadata server issued to an instance stands for its service account; any
 * other credential (the operator's) is the project's owner. Account ids: 6–30 characters, lowercase letters,
 * digits and hyphens, starting with a letter (https://cloud.google.com/iam/docs/service-accounts-create#creating).
 */
import type { CloudContext, CloudRequest, HttpResponse, RoutedCall } from "../cloud.js";
import { parseBody } from "./body.js";
import { answer, faultResponse, GcpError, gcpErrors, json } from "./errors.js";
import type { GcpState, ServiceAccount } from "./model.js";

const ACCOUNT_ID = /^[a-z]([-a-z0-9]{4,28}[a-z0-9])$/;

/** Who a request acts as. */
export type Principal = { kind: "owner" } | { kind: "serviceAccount"; email: string };

export class Iam {
  constructor(
    private readonly state: () => GcpState,
    private readonly ctx: CloudContext,
  ) {}

  /** The principal behind a request's bearer token; 401 when there is none or it expired. */
  principal(req: CloudRequest): Principal {
    const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ""));
    if (!m) throw gcpErrors.unauthenticated();
    const issued = this.state().iam.tokens[m[1]!];
    if (!issued) return { kind: "owner" };
    if (issued.expiresAt <= this.ctx.now())
      throw new GcpError(
        401,
        "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token.",
      );
    return { kind: "serviceAccount", email: issued.email };
  }

  /** A fresh access token for a service account, as the metadata server hands out (one hour). */
  issue(email: string): { access_token: string; expires_in: number; token_type: string } {
    const token = `ya29.k3s-${this.ctx.rng.hex(40)}`;
    const now = this.ctx.now();
    for (const [t, v] of Object.entries(this.state().iam.tokens))
      if (v.expiresAt <= now) delete this.state().iam.tokens[t];
    this.state().iam.tokens[token] = { email, expiresAt: now + 3_600_000 };
    return { access_token: token, expires_in: 3599, token_type: "Bearer" };
  }

  account(email: string): ServiceAccount | undefined {
    return this.state().iam.accounts[email];
  }

  route(req: CloudRequest): RoutedCall | undefined {
    const m = /^\/v1\/projects\/([^/]+)\/serviceAccounts(?:\/([^/:]+))?$/.exec(req.path);
    if (!m) return undefined;
    const [, project = "", email] = m;
    const call = (operation: string, run: () => HttpResponse): RoutedCall => ({
      service: "iam",
      operation,
      run: () =>
        answer(() => {
          if (this.principal(req).kind !== "owner")
            throw new GcpError(
              403,
              "forbidden",
              `Permission 'iam.serviceAccounts.${operation.split(".")[1]}' denied`,
            );
          return run();
        }),
      fault: faultResponse,
    });
    if (!email && req.method === "POST")
      return call("serviceAccounts.create", () => this.create(project, parseBody(req.body)));
    if (!email && req.method === "GET")
      return call("serviceAccounts.list", () =>
        json(200, {
          accounts: Object.values(this.state().iam.accounts)
            .filter((a) => a.project === project)
            .map((a) => this.json(a)),
        }),
      );
    if (email && req.method === "GET")
      return call("serviceAccounts.get", () => json(200, this.json(this.get(email))));
    if (email && req.method === "DELETE")
      return call("serviceAccounts.delete", () => {
        this.get(email);
        delete this.state().iam.accounts[decodeURIComponent(email)];
        return json(200, {});
      });
    return undefined;
  }

  private get(email: string): ServiceAccount {
    const a = this.state().iam.accounts[decodeURIComponent(email)];
    if (!a) throw gcpErrors.notFound(`projects/-/serviceAccounts/${email}`);
    return a;
  }

  private create(project: string, body: Record<string, unknown>): HttpResponse {
    const accountId = String(body.accountId ?? "");
    if (!ACCOUNT_ID.test(accountId))
      throw gcpErrors.invalid(
        `Invalid account ID '${accountId}': 6-30 characters, lowercase letters, digits and hyphens.`,
      );
    const email = `${accountId}@${project}.iam.gserviceaccount.com`;
    if (this.state().iam.accounts[email])
      throw new GcpError(
        409,
        "alreadyExists",
        `Service account ${accountId} already exists within project projects/${project}.`,
      );
    const sa = (body.serviceAccount as Record<string, unknown> | undefined) ?? {};
    const account: ServiceAccount = {
      project,
      accountId,
      email,
      uniqueId: String(100_000_000_000_000_000_000n + BigInt(this.ctx.rng.int(1_000_000_000))),
      displayName: String(sa.displayName ?? ""),
      description: String(sa.description ?? ""),
    };
    this.state().iam.accounts[email] = account;
    return json(200, this.json(account));
  }

  json(a: ServiceAccount): Record<string, unknown> {
    return {
      name: `projects/${a.project}/serviceAccounts/${a.email}`,
      projectId: a.project,
      uniqueId: a.uniqueId,
      email: a.email,
      displayName: a.displayName,
      description: a.description,
      etag: "BwX=",
    };
  }
}
