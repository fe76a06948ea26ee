import { stringify } from "yaml";
import { type ConfigIssue, InvalidConfigError } from "../errors.js";
import type { LoadBalancerMode } from "../resources/load-balancer.js";
import type { Secret } from "../secret.js";
import { clientOptionFile, DATASTORE_PREP_PATHS, prepareSql } from "./datastore-prep.js";
import { DATASTORE_CA_PATH, endpointFor, k3sConfigYaml } from "./k3s-config.js";
import type { MetadataReader } from "./metadata.js";
import {
  type NodeSecretNames,
  type NodeSecretReader,
  SECRET_PLACEHOLDERS,
  validateSecretNames,
} from "./node-secrets.js";
import {
  RANCHER_MANIFEST_PATH,
  RANCHER_MANIFEST_TEMPLATE_PATH,
  type RancherInstallInput,
  renderRancherManifests,
  validateRancherInstall,
} from "./rancher-install.js";
import {
  BOOTSTRAP_SCRIPT_PATH,
  CONFIG_TEMPLATE_PATH,
  PLACEHOLDERS,
  renderBootstrapScript,
} from "./script.js";
import { BOOTSTRAP_UNIT_NAME, BOOTSTRAP_UNIT_PATH, renderBootstrapUnit } from "./stages.js";
import { renderTraefikConfig, TRAEFIK_CONFIG_PATH } from "./traefik.js";

export type { NodeSecretReader } from "./node-secrets.js";

/**
 * Everything one K3s server's user data depends on. Keep it stable: a change replaces the node.
 *
 * Two ways for the secrets (K3s token, K3s datastore password, datastore admin password):
 * - inline (`InlineSecretsInput`): the values are in the input and travel in the user data, in 0600 files;
 *   for providers without a secret store (the orchestrator warns at plan time);
 * - store (`StoreSecretsInput`): only their names (`secretNames`) are in the input; the boot script reads
 *   the values with the provider's `secretReader` and writes the 0600 files itself. No value in user data.
 */
export type BootstrapInput = InlineSecretsInput | StoreSecretsInput;

/** Secrets in the user data. */
export interface InlineSecretsInput extends BootstrapCommonInput {
  /** Shared cluster token. */
  readonly token: Secret;
  readonly datastore: BootstrapDatastoreInput & {
    readonly password: Secret;
    /**
     * The admin (master) user. When set, server 0 creates the database and the K3s user (`ALL` on the
     * database only) at boot if the K3s user cannot log in yet, since only the nodes reach the datastore.
     * Only server 0's user data holds it; other servers' user data does not change with it.
     */
    readonly admin?: { readonly user: string; readonly password: Secret } | undefined;
  };
  /** Rancher's bootstrap password; required on server 0 with `rancher` (it goes into the 0600 manifest). */
  readonly rancherBootstrapPassword?: Secret | undefined;
  readonly secretNames?: undefined;
}

/** Secrets read at boot from a secret store; the user data holds their names only. */
export interface StoreSecretsInput extends BootstrapCommonInput {
  readonly token?: undefined;
  readonly datastore: BootstrapDatastoreInput & {
    readonly password?: undefined;
    /**
     * The admin (master) user; with `secretNames.datastoreAdminPassword`, server 0 prepares the datastore
     * as in the inline mode, reading that password only if the K3s user cannot log in yet.
     */
    readonly admin?: { readonly user: string; readonly password?: undefined } | undefined;
  };
  /** Where the values are; the store mode needs `secretReader` too. */
  readonly secretNames: NodeSecretNames;
  readonly rancherBootstrapPassword?: undefined;
}

/** The datastore as both modes describe it. */
export interface BootstrapDatastoreInput {
  /** The user K3s logs in as. */
  readonly user: string;
  readonly database: string;
  /** Default 3306; a published `datastore-port` wins. */
  readonly port?: number | undefined;
  /** Known host (bring-your-own datastore); unset: the node waits for the published `datastore-host`. */
  readonly host?: string | undefined;
  /**
   * TLS to the datastore, verified against the CA: the bundle inline (PEM), or an HTTPS URL the node
   * downloads it from at boot (the provider's `datastoreCaUrl(region)`; keeps big bundles out of user data, which clouds cap at about 16 KB).
   */
  readonly tls?: { readonly caBundle?: string | undefined; readonly caUrl?: string | undefined } | undefined;
}

/** What does not depend on where the secrets come from. */
export interface BootstrapCommonInput {
  /** 0-based position; node 0 starts K3s first. */
  readonly index: number;
  /** Servers in the cluster, only to validate `index`; it does not change the user data, so scaling never replaces a server. */
  readonly count?: number | undefined;
  /** Pinned K3s release, e.g. `v1.33.12+k3s1` (see `resolveK3sVersion`). */
  readonly k3sVersion: string;
  /** The Rancher hostname (first `tls-san`). */
  readonly hostname: string;
  readonly loadBalancer: {
    readonly mode: LoadBalancerMode;
    /** Fixed LB addresses to add to `tls-san` (stable ones only: they are part of the user data). */
    readonly addresses?: readonly string[] | undefined;
    /** L7: the ranges the LB connects from, trusted for `X-Forwarded-*` by Traefik. Required on L7. */
    readonly sourceCidrs?: readonly string[] | undefined;
  };
  /** Body of the provider's `k3sinfra_meta` shell function (its descriptor's `metadataReader`). */
  readonly metadataReader: MetadataReader;
  /**
   * The provider's node-side secret reader (its descriptor's `secretReader`): files cloud-init writes
   * before the boot script runs, and shell functions the script defines next to `k3sinfra_meta`
   * (`k3sinfra_secret <name>`, `k3sinfra_secret_put <name>`). Unset: nothing added. Required with
   * `secretNames` (the store mode), which calls those functions.
   */
  readonly secretReader?: NodeSecretReader | undefined;
  /**
   * Server 0 installs cert-manager (L4) and Rancher through K3s's Helm controller (`rancher-install.ts`), with
   * the bootstrap password from `secretNames.rancherBootstrapPassword` (store mode) or
   * `rancherBootstrapPassword` (inline). Unset: nothing is installed. Ignored on other servers, whose user
   * data does not change with it.
   */
  readonly rancher?: RancherInstallInput | undefined;
  /** Node 0's private IP when already known; unset: nodes > 0 wait for the published `first-server-ip`. */
  readonly firstServerIp?: string | undefined;
  /**
   * Bounds of the boot-time waits, per run of the script: a wait that runs out fails the run and systemd
   * starts the next one, for as long as it takes. Defaults: metadata 60 min (managed databases are slow),
   * /ping 30 min, the datastore accepting connections (server 0 with `datastore.admin`) 15 min, each secret
   * read or the kubeconfig write (store mode; a new node identity is eventually consistent) 10 min.
   */
  readonly waits?:
    | {
        readonly metadataSeconds?: number;
        readonly pingSeconds?: number;
        readonly datastoreSeconds?: number;
        readonly secretSeconds?: number;
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
// The go-sql-driver DSN splits on these (https://github.com/go-sql-driver/mysql#dsn-data-source-name); core
// generates alphanumeric passwords.
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
  const ds = input.datastore;
  if (input.secretNames === undefined) {
    if (input.token.reveal().length < 16 || /\s/.test(input.token.reveal()))
      add("k3s.token", "must be at least 16 characters without whitespace");
    if (!safePassword(input.datastore.password)) add("datastore.password", PASSWORD_RULE);
    // The admin password goes into a client option file, which would interpret the same characters.
    const admin = input.datastore.admin;
    if (admin !== undefined && !safePassword(admin.password)) add("datastore.admin.password", PASSWORD_RULE);
  } else {
    // A value given anyway (an untyped caller) would be ignored; refuse it rather than leave doubt.
    const loose = input as {
      token?: unknown;
      datastore: { password?: unknown; admin?: { password?: unknown } };
    };
    if (loose.token !== undefined) add("k3s.token", "must not be given with secretNames (store mode)");
    if (loose.datastore.password !== undefined)
      add("datastore.password", "must not be given with secretNames (store mode)");
    if (loose.datastore.admin?.password !== undefined)
      add("datastore.admin.password", "must not be given with secretNames (store mode)");
    if ((input as { rancherBootstrapPassword?: unknown }).rancherBootstrapPassword !== undefined)
      add("rancher.bootstrapPassword", "must not be given with secretNames (store mode)");
    issues.push(...validateSecretNames(input.secretNames, input.secretReader));
    if (ds.admin !== undefined && input.secretNames.datastoreAdminPassword === undefined)
      add("secretNames.datastoreAdminPassword", "is required with datastore.admin (store mode)");
    if (ds.admin === undefined && input.secretNames.datastoreAdminPassword !== undefined)
      add("datastore.admin", "is required with secretNames.datastoreAdminPassword (its user)");
  }
  if (!/^[A-Za-z0-9_]{1,32}$/.test(ds.user)) add("datastore.username", "must be letters, digits or _");
  if (!/^[A-Za-z0-9_]{1,64}$/.test(ds.database))
    add("datastore.databaseName", "must be letters, digits or _");
  if (ds.admin !== undefined) {
    if (!/^[A-Za-z0-9_]{1,32}$/.test(ds.admin.user))
      add("datastore.admin.user", "must be letters, digits or _");
    else if (ds.admin.user === ds.user)
      add("datastore.admin.user", "must differ from the K3s user, whose password server 0 resets");
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
  if (input.secretReader !== undefined) {
    const reserved = new Set<string>([
      CONFIG_TEMPLATE_PATH,
      BOOTSTRAP_SCRIPT_PATH,
      DATASTORE_CA_PATH,
      TRAEFIK_CONFIG_PATH,
      BOOTSTRAP_UNIT_PATH,
      RANCHER_MANIFEST_TEMPLATE_PATH,
      RANCHER_MANIFEST_PATH,
      ...Object.values(DATASTORE_PREP_PATHS),
    ]);
    for (const f of input.secretReader.files) {
      if (!/^\/[A-Za-z0-9._/-]+$/.test(f.path) || f.path.includes("..") || reserved.has(f.path))
        add("secretReader.files", `${f.path} must be a new absolute path of letters, digits and . _ - /`);
      if (!/^0[0-7]{3}$/.test(f.permissions)) add("secretReader.files", `${f.path}: mode must be like 0700`);
    }
    if (input.secretReader.functions.trim() === "")
      add("secretReader.functions", "must define the shell functions");
  }
  if (input.index === 0 && input.rancher !== undefined) {
    issues.push(...validateRancherInstall(input.rancher, input.loadBalancer.mode, input.k3sVersion));
    if (input.secretNames === undefined) {
      const password = input.rancherBootstrapPassword?.reveal() ?? "";
      if (password.length < 12)
        add("rancher.bootstrapPassword", "is required to install Rancher: at least 12 characters");
    } else if (input.secretNames.rancherBootstrapPassword === undefined)
      add("secretNames.rancherBootstrapPassword", "is required to install Rancher (store mode)");
  }
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
 * `#cloud-config` user data for one K3s server: the 0600 config template, the datastore CA, the Traefik
 * HelmChartConfig, on server 0 with `datastore.admin` the 0600 client option files and SQL that prepare the
 * datastore (and `mysql-client` from the packages module), on server 0 with `rancher` the manifest that
 * installs Rancher, and the bootstrap script with the systemd unit that runs it until it succeeds, enabled
 * and started by `runcmd`. The same for every provider; the
 * metadata reader is the only provider-specific part. Inline mode: contains secrets (token, datastore
 * passwords). Store mode (`secretNames`): no secret, only names; the config template and the preparation
 * files hold placeholders the script fills at boot, plus the provider's secret reader files.
 * About 7 KB (10 KB on server 0 with an admin) plus an inline CA bundle and the secret reader; clouds cap
 * user data (16 KB is common; each provider cites its own limit), so prefer `caUrl` for big bundles.
 * Throws `InvalidConfigError`.
 */
export function renderCloudInit(input: BootstrapInput): string {
  const issues = validateBootstrapInput(input);
  if (issues.length > 0) throw new InvalidConfigError(issues);
  const ds = input.datastore;
  const tls = ds.tls !== undefined && (ds.tls.caBundle !== undefined || ds.tls.caUrl !== undefined);
  const names = input.secretNames;
  const inline = names === undefined ? input : undefined;
  const template = k3sConfigYaml({
    token: inline ? inline.token.reveal() : SECRET_PLACEHOLDERS.token,
    endpoint: endpointFor(
      ds.user,
      inline ? inline.datastore.password.reveal() : SECRET_PLACEHOLDERS.datastorePassword,
      PLACEHOLDERS.address,
      ds.database,
    ),
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
  // Validated: in store mode an admin comes with the name of its password.
  const adminSecret = names?.datastoreAdminPassword;
  const prepare = input.index === 0 && ds.admin !== undefined;
  const inlineAdmin = inline?.datastore.admin;
  if (input.index === 0 && inline && inlineAdmin !== undefined) {
    const file = (path: string, content: string) =>
      files.push({ path, owner: "root:root", permissions: "0600", content });
    const k3sPassword = inline.datastore.password.reveal();
    file(
      DATASTORE_PREP_PATHS.adminOptions,
      clientOptionFile(inlineAdmin.user, inlineAdmin.password.reveal()),
    );
    file(DATASTORE_PREP_PATHS.k3sOptions, clientOptionFile(ds.user, k3sPassword));
    file(DATASTORE_PREP_PATHS.sql, prepareSql(ds.user, k3sPassword, ds.database));
  }
  const traefik = renderTraefikConfig({
    mode: input.loadBalancer.mode,
    trustedCidrs: input.loadBalancer.sourceCidrs,
  });
  files.push({ path: TRAEFIK_CONFIG_PATH, owner: "root:root", permissions: "0600", content: traefik });
  const rancher = input.index === 0 ? input.rancher : undefined;
  if (rancher !== undefined) {
    const password = inline
      ? (inline.rancherBootstrapPassword?.reveal() ?? "")
      : SECRET_PLACEHOLDERS.rancherBootstrapPassword;
    const content = renderRancherManifests({
      hostname: input.hostname.toLowerCase(),
      mode: input.loadBalancer.mode,
      rancher,
      password,
    });
    files.push({ path: RANCHER_MANIFEST_TEMPLATE_PATH, owner: "root:root", permissions: "0600", content });
  }
  const script = renderBootstrapScript({
    index: input.index,
    k3sVersion: input.k3sVersion,
    datastoreHost: ds.host ?? "",
    datastorePort: ds.port ?? 3306,
    firstServerIp: input.index === 0 ? "" : (input.firstServerIp ?? ""),
    caUrl: ds.tls?.caUrl ?? "",
    metadataReader: input.metadataReader.replace(/\s+$/, ""),
    secretFunctions: input.secretReader?.functions.replace(/\s+$/, ""),
    metadataWaitSeconds: input.waits?.metadataSeconds ?? 3600,
    pingWaitSeconds: input.waits?.pingSeconds ?? 1800,
    prepare: prepare
      ? {
          database: ds.database,
          tls,
          waitSeconds: input.waits?.datastoreSeconds ?? 900,
          store:
            adminSecret !== undefined && ds.admin !== undefined
              ? { k3sUser: ds.user, adminUser: ds.admin.user, adminSecret }
              : undefined,
        }
      : undefined,
    secretStore: names
      ? {
          tokenName: names.k3sToken,
          passwordName: names.datastorePassword,
          // Server 0 only, so other servers' user data does not change with it.
          kubeconfigName: input.index === 0 ? names.kubeconfig : undefined,
          waitSeconds: input.waits?.secretSeconds ?? 600,
        }
      : undefined,
    rancher: rancher ? { passwordSecret: names?.rancherBootstrapPassword } : undefined,
  });
  for (const f of input.secretReader?.files ?? [])
    files.push({ path: f.path, owner: "root:root", permissions: f.permissions, content: f.content });
  files.push({ path: BOOTSTRAP_SCRIPT_PATH, owner: "root:root", permissions: "0700", content: script });
  files.push({
    path: BOOTSTRAP_UNIT_PATH,
    owner: "root:root",
    permissions: "0644",
    content: renderBootstrapUnit(input.index),
  });
  // The MySQL client from the packages module, before runcmd and not late in the script, when
  // unattended-upgrades often holds the dpkg lock (https://docs.cloud-init.io/en/latest/reference/modules.html#package-update-upgrade-install).
  const packages = prepare ? { package_update: true, packages: ["mysql-client"] } : {};
  // runcmd as argv lists: no shell parses them, and they carry no secret. `--no-block`: the unit runs for as
  // long as the bootstrap takes, and cloud-init finishes meanwhile.
  const runcmd = [
    ["systemctl", "daemon-reload"],
    ["systemctl", "enable", "--now", "--no-block", BOOTSTRAP_UNIT_NAME],
  ];
  const doc = { ...packages, write_files: files, runcmd };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
