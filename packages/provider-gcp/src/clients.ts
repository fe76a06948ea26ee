import type * as Compute from "@google-cloud/compute";
import type { DNS } from "@google-cloud/dns";
import type * as Sql from "@google-cloud/sql";
import type { GoogleAuth } from "google-auth-library";

/** The compute module's client classes, by the name a service asks for. */
type ComputeModule = typeof Compute;
type ClientName =
  | "InstancesClient"
  | "FirewallsClient"
  | "NetworksClient"
  | "SubnetworksClient"
  | "ZoneOperationsClient"
  | "RegionOperationsClient"
  | "GlobalOperationsClient"
  | "ImagesClient"
  | "ZonesClient"
  | "RegionsClient"
  | "AddressesClient"
  | "GlobalAddressesClient"
  | "InstanceGroupsClient"
  | "RegionHealthChecksClient"
  | "HealthChecksClient"
  | "RegionBackendServicesClient"
  | "BackendServicesClient"
  | "ForwardingRulesClient"
  | "GlobalForwardingRulesClient"
  | "UrlMapsClient"
  | "TargetHttpProxiesClient"
  | "TargetHttpsProxiesClient"
  | "SslCertificatesClient";

export type ComputeClient<N extends ClientName> = InstanceType<ComputeModule[N]>;

type SqlName =
  | "SqlInstancesServiceClient"
  | "SqlOperationsServiceClient"
  | "SqlDatabasesServiceClient"
  | "SqlUsersServiceClient";
export type SqlClient<N extends SqlName> = InstanceType<(typeof Sql.v1)[N]>;

/** Where the clients go and who they are: Google's endpoints with ADC, or a compatible endpoint (the emulator). */
export interface GcpClientSettings {
  /** An endpoint for every client, e.g. `http://127.0.0.1:4566`; unset: Google's. */
  readonly endpoint?: string | undefined;
  /** A service account key file (GOOGLE_APPLICATION_CREDENTIALS); unset: the rest of the ADC chain. */
  readonly keyFilename?: string | undefined;
  /** The project from the options or the environment; unset: the credentials' own project. */
  readonly project?: string | undefined;
}

/** The native Google clients of one cluster, made on first use; importing this module loads no SDK. */
export class GcpClients {
  readonly settings: GcpClientSettings;
  readonly #auth = new Map<string, Promise<GoogleAuth>>();
  #compute: Promise<ComputeModule> | undefined;
  #sql: Promise<typeof Sql> | undefined;
  #dns: Promise<DNS> | undefined;
  #project: Promise<string> | undefined;
  readonly #clients = new Map<string, Promise<unknown>>();

  constructor(settings: GcpClientSettings) {
    this.settings = settings;
  }

  /**
   * Application Default Credentials (https://cloud.google.com/docs/authentication/application-default-credentials),
   * one per API: each gax client writes its service path on its auth object, which a service account's
   * self-signed JWT takes as its audience, so compute and Cloud SQL must not share one.
   */
  auth(api = "compute"): Promise<GoogleAuth> {
    let auth = this.#auth.get(api);
    if (!auth) {
      auth = import("google-auth-library").then(
        ({ GoogleAuth }) =>
          new GoogleAuth({
            ...(this.settings.keyFilename ? { keyFilename: this.settings.keyFilename } : {}),
            ...(this.settings.project ? { projectId: this.settings.project } : {}),
          }),
      );
      this.#auth.set(api, auth);
    }
    return auth;
  }

  /** The project every call is made in: the configured one, else the credentials'. */
  project(): Promise<string> {
    this.#project ??= this.settings.project
      ? Promise.resolve(this.settings.project)
      : this.auth().then((a) => a.getProjectId());
    return this.#project;
  }

  /**
   * The options that point a gax client at the endpoint: host, port and protocol apart, since `apiEndpoint`
   * with a port is overridden by the default port 443 (googleapis/gax-nodejs `fallback.ts`, `port` option).
   */
  async gaxOptions(api = "compute"): Promise<Record<string, unknown>> {
    const auth = await this.auth(api);
    const base: Record<string, unknown> = { auth, fallback: true };
    if (!this.settings.endpoint) return base;
    const url = new URL(this.settings.endpoint);
    const protocol = url.protocol.replace(":", "");
    return {
      ...base,
      apiEndpoint: url.hostname,
      port: Number(url.port || (protocol === "http" ? 80 : 443)),
      protocol,
    };
  }

  /** One compute client, e.g. `compute("InstancesClient")`. */
  compute<N extends ClientName>(name: N): Promise<ComputeClient<N>> {
    let client = this.#clients.get(name);
    if (!client) {
      this.#compute ??= import("@google-cloud/compute");
      client = Promise.all([this.#compute, this.gaxOptions()]).then(
        ([mod, opts]) => new (mod[name] as new (o: unknown) => unknown)(opts),
      );
      this.#clients.set(name, client);
    }
    return client as Promise<ComputeClient<N>>;
  }

  /**
   * The Cloud DNS client (@google-cloud/dns, on @google-cloud/common): given the ADC client itself, since it
   * would otherwise make its own; it builds `https://${apiEndpoint}/dns/v1` and takes no port or protocol, so an
   * endpoint is set on its public `baseUrl`. It retries nothing itself (gcpCall does).
   */
  dns(): Promise<DNS> {
    this.#dns ??= Promise.all([import("@google-cloud/dns"), this.auth("dns"), this.project()]).then(
      async ([mod, auth, projectId]) => {
        const authClient = await auth.getClient();
        // A service account's self-signed JWT names the API it is for.
        (authClient as { defaultServicePath?: string }).defaultServicePath ??= "dns.googleapis.com";
        const dns = new mod.DNS({ projectId, authClient, autoRetry: false, maxRetries: 0 } as never);
        if (this.settings.endpoint) dns.baseUrl = `${this.settings.endpoint.replace(/\/$/, "")}/dns/v1`;
        return dns;
      },
    );
    return this.#dns;
  }

  /**
   * One Cloud SQL Admin client over HTTP/REST: the package defaults to gRPC, so `fallback: true` (it then sends
   * enums as numbers with `$alt=json;enum-encoding=int`).
   */
  sql<N extends SqlName>(name: N): Promise<SqlClient<N>> {
    let client = this.#clients.get(name);
    if (!client) {
      this.#sql ??= import("@google-cloud/sql");
      client = Promise.all([this.#sql, this.gaxOptions("sql")]).then(
        ([mod, opts]) => new (mod.v1[name] as new (o: unknown) => unknown)(opts),
      );
      this.#clients.set(name, client);
    }
    return client as Promise<SqlClient<N>>;
  }
}
