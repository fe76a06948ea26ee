import type * as Compute from "@google-cloud/compute";
import type { DNS } from "@google-cloud/dns";
import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import type * as Sql from "@google-cloud/sql";
import { AuthFailedError } from "@k3sinfra/core";
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
  #secrets: Promise<SecretManagerServiceClient> | undefined;
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
      auth = Promise.all([import("google-auth-library"), this.#keyFile()]).then(([lib, key]) => {
        if (!key)
          return new lib.GoogleAuth(this.settings.project ? { projectId: this.settings.project } : {});
        // The file GOOGLE_APPLICATION_CREDENTIALS names, as the client it describes: google-auth-library 11
        // deprecates loading it through `keyFilename`/`credentials` in favour of the client constructors
        // (https://cloud.google.com/docs/authentication/external/externally-sourced-credentials).
        const projectId =
          this.settings.project ?? (typeof key.project_id === "string" ? key.project_id : undefined);
        const str = (k: string) => (typeof key[k] === "string" ? (key[k] as string) : undefined);
        let authClient: InstanceType<typeof lib.JWT> | InstanceType<typeof lib.UserRefreshClient>;
        if (key.type === "service_account")
          authClient = new lib.JWT({
            email: str("client_email"),
            key: str("private_key"),
            keyId: str("private_key_id"),
          });
        else if (key.type === "authorized_user")
          authClient = new lib.UserRefreshClient({
            clientId: str("client_id"),
            clientSecret: str("client_secret"),
            refreshToken: str("refresh_token"),
          });
        else
          throw new AuthFailedError(
            `GOOGLE_APPLICATION_CREDENTIALS names a '${String(key.type)}' credential; k3sinfra reads service account keys and user credentials from it (others through the environment's Application Default Credentials).`,
          );
        return new lib.GoogleAuth({ authClient, ...(projectId ? { projectId } : {}) });
      });
      this.#auth.set(api, auth);
    }
    return auth;
  }

  /**
   * The credentials file GOOGLE_APPLICATION_CREDENTIALS names, read once: handed over as `credentials`, since
   * google-auth-library 11 deprecates its `keyFilename` option.
   */
  #keyFile(): Promise<Record<string, unknown> | undefined> {
    const path = this.settings.keyFilename;
    if (!path) return Promise.resolve(undefined);
    return import("node:fs/promises").then(async ({ readFile }) => JSON.parse(await readFile(path, "utf8")));
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

  /** The Secret Manager client over HTTP/REST (the package defaults to gRPC). */
  secrets(): Promise<SecretManagerServiceClient> {
    this.#secrets ??= Promise.all([
      import("@google-cloud/secret-manager"),
      this.gaxOptions("secretmanager"),
    ]).then(([mod, opts]) => new mod.SecretManagerServiceClient(opts as never));
    return this.#secrets;
  }

  /**
   * An authorized JSON request to a Google REST API with the ADC credentials (the IAM service accounts API):
   * `path` below the API's root, e.g. `iam.googleapis.com` + `/v1/projects/p/serviceAccounts`.
   */
  async rest<T>(host: string, path: string, init: { method?: string; data?: unknown } = {}): Promise<T> {
    const auth = await this.auth(host);
    const client = await auth.getClient();
    // A service account's self-signed JWT names the API it is for.
    (client as { defaultServicePath?: string }).defaultServicePath ??= host;
    const root = this.settings.endpoint?.replace(/\/$/, "") ?? `https://${host}`;
    const res = await client.request<T>({
      url: `${root}${path}`,
      method: (init.method ?? "GET") as "GET",
      ...(init.data === undefined ? {} : { data: init.data }),
      retry: false,
    });
    return res.data;
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
