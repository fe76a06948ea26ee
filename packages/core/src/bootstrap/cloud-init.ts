import { stringify } from "yaml";
import { type ConfigIssue, InvalidConfigError } from "../errors.js";
import type { LoadBalancerMode } from "../resources/load-balancer.js";
import type { Secret } from "../secret.js";
import { clientOptionFile, DATASTORE_PREP_PATHS, prepareSql } from "./datastore-prep.js";
import { DATASTORE_CA_PATH, endpointFor, k3sConfigYaml } from "./k3s-config.js";
import type { MetadataReader } from "./metadata.js";
import {
  BOOTSTRAP_SCRIPT_PATH,
  CONFIG_TEMPLATE_PATH,
  PLACEHOLDERS,
  renderBootstrapScript,
} from "./script.js";
import { renderTraefikConfig, TRAEFIK_CONFIG_PATH } from "./traefik.js";

/** Everything one K3s server's user data depends on. Keep it stable: a change replaces the node. */
export interface BootstrapInput {
  /** 0-based position; node 0 starts K3s first. */
  readonly index: number;
  /** Servers in the cluster, only to validate `index`; it does not change the user data, so scaling never replaces a server. */
  readonly count?: number | undefined;
  /** Pinned K3s release, e.g. `v1.33.12+k3s1` (see `resolveK3sVersion`). */
  readonly k3sVersion: string;
  /** Shared cluster token. */
  readonly token: Secret;
  readonly datastore: {
    /** The user K3s logs in as. */
    readonly user: string;
    readonly password: Secret;
    readonly database: string;
    /** Default 3306; a published `datastore-port` wins. */
    readonly port?: number | undefined;
    /** Known host (bring-your-own datastore); unset: the node waits for the published `datastore-host`. */
    readonly host?: string | undefined;
    /**
     * TLS to the datastore, verified against the CA: the bundle inline (PEM), or an HTTPS URL the node
     * downloads it from at boot (e.g. `awsRdsCaUrl(region)`; keeps big bundles out of the 16 KB user data).
     */
    readonly tls?:
      | { readonly caBundle?: string | undefined; readonly caUrl?: string | undefined }
      | undefined;
    /**
     * The admin (master) user. When set, server 0 creates the database and the K3s user (`ALL` on the
     * database only) at boot if the K3s user cannot log in yet, since only the nodes reach the datastore.
     * Only server 0's user data holds it; other servers' user data does not change with it.
     */
    readonly admin?: { readonly user: string; readonly password: Secret } | undefined;
  };
  /** The Rancher hostname (first `tls-san`). */
  readonly hostname: string;
  readonly loadBalancer: {
    readonly mode: LoadBalancerMode;
    /** Fixed LB addresses to add to `tls-san` (stable ones only: they are part of the user data). */
    readonly addresses?: readonly string[] | undefined;
    /** L7: the ranges the LB connects from, trusted for `X-Forwarded-*` by Traefik. Required on L7. */
    readonly sourceCidrs?: readonly string[] | undefined;
  };
  /** Body of the provider's `k3sinfra_meta` shell function (see `METADATA_READERS`). */
  readonly metadataReader: MetadataReader;
  /** Node 0's private IP when already known; unset: nodes > 0 wait for the published `first-server-ip`. */
  readonly firstServerIp?: string | undefined;
  /**
   * Bounds of the boot-time waits. Defaults: metadata 60 min (managed databases are slow), /ping 30 min,
   * the datastore accepting connections (server 0 with `datastore.admin`) 15 min.
   */
  readonly waits?:
    | {
        readonly metadataSeconds?: number;
        readonly pingSeconds?: number;
        readonly datastoreSeconds?: number;
      }
    | undefined;
}

const FQDN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const isIpv4 = (s: string): boolean => IPV4.test(s) && s.split(".").every((p) => Number(p) <= 255);
const isHost = (s: string): boolean => isIpv4(s) || FQDN.test(s);
const isCidr = (s: string): boolean => {
  const [ip, bits, ...rest] = s.split("/");
  return (
    rest.length === 0 && ip !== undefined && isIpv4(ip) && /^\d{1,2}$/.test(bits ?? "") && Number(bits) <= 32
  );
};
// The go-sql-driver DSN splits on these; core generates alphanumeric passwords (anchors-k3s.md B.1).
const DSN_BREAKING = /[@/:()?#\s"'\\]/;
const safePassword = (p: Secret): boolean => p.reveal() !== "" && !DSN_BREAKING.test(p.reveal());
const PASSWORD_RULE = "must be non-empty without @ / : ( ) ? # quotes, backslashes or spaces";

/** Checks a bootstrap input; issue paths follow the cluster config where one exists. */
export function validateBootstrapInput(input: BootstrapInput): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  const count = input.count ?? Number.POSITIVE_INFINITY;
  if (!Number.isInteger(input.index) || input.index < 0 || input.index >= count)
    add(
      "nodes.index",
      input.count === undefined ? "must be a non-negative integer" : `must be below ${count}`,
    );
  if (!/^v\d+\.\d+\.\d+\+k3s\d+$/.test(input.k3sVersion))
    add("k3s.version", "must be a K3s release such as v1.33.12+k3s1");
  if (input.token.reveal().length < 16 || /\s/.test(input.token.reveal()))
    add("k3s.token", "must be at least 16 characters without whitespace");
  const ds = input.datastore;
  if (!/^[A-Za-z0-9_]{1,32}$/.test(ds.user)) add("datastore.username", "must be letters, digits or _");
  if (!/^[A-Za-z0-9_]{1,64}$/.test(ds.database))
    add("datastore.databaseName", "must be letters, digits or _");
  if (!safePassword(ds.password)) add("datastore.password", PASSWORD_RULE);
  if (ds.admin !== undefined) {
    if (!/^[A-Za-z0-9_]{1,32}$/.test(ds.admin.user))
      add("datastore.admin.user", "must be letters, digits or _");
    else if (ds.admin.user === ds.user)
      add("datastore.admin.user", "must differ from the K3s user, whose password server 0 resets");
    // The admin password goes into a client option file, which would interpret the same characters.
    if (!safePassword(ds.admin.password)) add("datastore.admin.password", PASSWORD_RULE);
  }
  if (ds.port !== undefined && !(Number.isInteger(ds.port) && ds.port > 0 && ds.port < 65536))
    add("datastore.port", "must be a TCP port");
  if (ds.host !== undefined && !isHost(ds.host)) add("datastore.host", "must be a host name or IPv4 address");
  if (ds.tls?.caUrl !== undefined && !/^https:\/\/[^\s'"\\]+$/.test(ds.tls.caUrl))
    add("datastore.tls.caUrl", "must be an https:// URL");
  if (ds.tls?.caBundle !== undefined && !ds.tls.caBundle.includes("-----BEGIN CERTIFICATE-----"))
    add("datastore.tls.caBundle", "must be PEM certificates");
  if (ds.tls?.caBundle !== undefined && ds.tls.caUrl !== undefined)
    add("datastore.tls", "give caBundle or caUrl, not both");
  if (!FQDN.test(input.hostname)) add("rancher.hostname", "must be a fully qualified domain name");
  for (const a of input.loadBalancer.addresses ?? [])
    if (!isHost(a)) add("loadBalancer.addresses", `${a} is not a host name or IPv4 address`);
  const cidrs = input.loadBalancer.sourceCidrs ?? [];
  if (input.loadBalancer.mode === "l7" && cidrs.length === 0)
    add("loadBalancer.sourceCidrs", "are required on L7: Traefik must trust X-Forwarded-* from the LB");
  for (const c of cidrs) if (!isCidr(c)) add("loadBalancer.sourceCidrs", `${c} is not an IPv4 CIDR`);
  if (input.firstServerIp !== undefined && !isIpv4(input.firstServerIp))
    add("nodes.firstServerIp", "must be an IPv4 address");
  if (input.metadataReader.trim() === "") add("metadataReader", "must be a shell function body");
  for (const [key, value] of Object.entries(input.waits ?? {}))
    if (value !== undefined && !(Number.isInteger(value) && value >= 0))
      add(`waits.${key}`, "must be a whole number of seconds");
  return issues;
}

/** The `tls-san` list: the Rancher hostname, then the LB addresses, without duplicates. */
export const tlsSans = (input: Pick<BootstrapInput, "hostname" | "loadBalancer">): string[] => [
  ...new Set([input.hostname.toLowerCase(), ...(input.loadBalancer.addresses ?? [])]),
];

/**
 * `#cloud-config` user data for one K3s server: the 0600 config template, the datastore CA, the L7
 * Traefik HelmChartConfig, on server 0 with `datastore.admin` the 0600 client option files and SQL that
 * prepare the datastore, and the bootstrap script, run once by `runcmd`. The same for every provider; the
 * metadata reader is the only provider-specific part. Contains secrets (token, datastore passwords).
 * About 7 KB (10 KB on server 0 with an admin) plus an inline CA bundle; EC2 caps user data at 16 KB, so
 * prefer `caUrl` for big bundles (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html).
 * Throws `InvalidConfigError`.
 */
export function renderCloudInit(input: BootstrapInput): string {
  const issues = validateBootstrapInput(input);
  if (issues.length > 0) throw new InvalidConfigError(issues);
  const ds = input.datastore;
  const tls = ds.tls !== undefined && (ds.tls.caBundle !== undefined || ds.tls.caUrl !== undefined);
  const template = k3sConfigYaml({
    token: input.token.reveal(),
    endpoint: endpointFor(ds.user, ds.password.reveal(), PLACEHOLDERS.address, ds.database),
    datastoreTls: tls,
    tlsSan: tlsSans(input),
    nodeIp: PLACEHOLDERS.nodeIp,
  });
  const files: Record<string, string>[] = [
    { path: CONFIG_TEMPLATE_PATH, owner: "root:root", permissions: "0600", content: template },
  ];
  if (ds.tls?.caBundle !== undefined) {
    const pem = ds.tls.caBundle.endsWith("\n") ? ds.tls.caBundle : `${ds.tls.caBundle}\n`;
    files.push({ path: DATASTORE_CA_PATH, owner: "root:root", permissions: "0644", content: pem });
  }
  const prepare = input.index === 0 && ds.admin !== undefined;
  if (prepare && ds.admin !== undefined) {
    const file = (path: string, content: string) =>
      files.push({ path, owner: "root:root", permissions: "0600", content });
    const k3sPassword = ds.password.reveal();
    file(DATASTORE_PREP_PATHS.adminOptions, clientOptionFile(ds.admin.user, ds.admin.password.reveal()));
    file(DATASTORE_PREP_PATHS.k3sOptions, clientOptionFile(ds.user, k3sPassword));
    file(DATASTORE_PREP_PATHS.sql, prepareSql(ds.user, k3sPassword, ds.database));
  }
  if (input.loadBalancer.mode === "l7") {
    const content = renderTraefikConfig(input.loadBalancer.sourceCidrs ?? []);
    files.push({ path: TRAEFIK_CONFIG_PATH, owner: "root:root", permissions: "0600", content });
  }
  const script = renderBootstrapScript({
    index: input.index,
    k3sVersion: input.k3sVersion,
    datastoreHost: ds.host ?? "",
    datastorePort: ds.port ?? 3306,
    firstServerIp: input.index === 0 ? "" : (input.firstServerIp ?? ""),
    caUrl: ds.tls?.caUrl ?? "",
    metadataReader: input.metadataReader.replace(/\s+$/, ""),
    metadataWaitSeconds: input.waits?.metadataSeconds ?? 3600,
    pingWaitSeconds: input.waits?.pingSeconds ?? 1800,
    prepare: prepare
      ? { database: ds.database, tls, waitSeconds: input.waits?.datastoreSeconds ?? 900 }
      : undefined,
  });
  files.push({ path: BOOTSTRAP_SCRIPT_PATH, owner: "root:root", permissions: "0700", content: script });
  // runcmd as an argv list: no shell parses it, and it carries no secret.
  const doc = { write_files: files, runcmd: [[BOOTSTRAP_SCRIPT_PATH]] };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
