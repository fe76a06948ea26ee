import type { ConfigIssue } from "../errors.js";
import type { LoadBalancerMode } from "../resources/load-balancer.js";
import { parseK3sVersion } from "./versions.js";

/**
 * Rancher installed by the cluster (issue 11): server 0 writes one K3s auto-deploy manifest, and K3s's Helm
 * controller installs the charts it names, retrying until they install (https://docs.k3s.io/helm). No helm,
 * no kubeconfig and no open port on the user's side.
 */

/** Where cloud-init writes the manifest (0600; the bootstrap password is a placeholder in store mode). */
export const RANCHER_MANIFEST_TEMPLATE_PATH = "/etc/rancher/k3s/k3sinfra/rancher.yaml.tmpl";
/** Where server 0's script puts it, once K3s serves: K3s applies every .yaml in this directory. */
export const RANCHER_MANIFEST_PATH = "/var/lib/rancher/k3s/server/manifests/k3sinfra-rancher.yaml";
/** Rancher's stable chart repository (https://ranchermanager.docs.rancher.com/getting-started/installation-and-upgrade/resources/choose-a-rancher-version). */
export const RANCHER_CHART_REPO = "https://releases.rancher.com/server-charts/stable";
/** cert-manager's chart repository (https://cert-manager.io/docs/installation/helm/). */
export const CERT_MANAGER_CHART_REPO = "https://charts.jetstack.io";
/**
 * Rancher pods when the config says nothing: Rancher's own default and the most its `replicas: -1` mode picks
 * ("Setting to -1 will dynamically choose 1, 2, or 3 based on the number of available nodes",
 * https://ranchermanager.docs.rancher.com/getting-started/installation-and-upgrade/installation-references/helm-chart-options).
 * Not the node count: server 0's user data would then change, and server 0 be replaced, when the cluster
 * scales; with 2 nodes the chart's preferred anti-affinity spreads the 3 pods 2 + 1.
 */
export const RANCHER_DEFAULT_REPLICAS = 3;
/** The kube-system Secret holding the `bootstrapPassword` value, read by the Helm controller (`valuesSecrets`). */
export const RANCHER_BOOTSTRAP_VALUES_SECRET = "k3sinfra-rancher-bootstrap";

/** What server 0 installs; part of server 0's user data only. */
export interface RancherInstallInput {
  /** Rancher chart version, e.g. `2.12.3`. */
  readonly version: string;
  /**
   * The Helm repository serving that version (the versions table's `chartRepository.url`: `stable`, or
   * `latest` for a minor not yet declared stable). Default `RANCHER_CHART_REPO`.
   */
  readonly chartRepository?: string | undefined;
  /** Rancher pods (`RANCHER_DEFAULT_REPLICAS` unless the config says otherwise). */
  readonly replicas: number;
  /** cert-manager chart version (`certManagerVersionFor`); required on L4, unused on L7 (TLS ends at the LB). */
  readonly certManagerVersion?: string | undefined;
}

/**
 * The first K3s release of each minor whose Helm controller reads chart values from Secrets (`valuesSecrets`,
 * k3s-io/helm-controller#268, validated in v1.32.4, v1.31.8 and v1.30.12: k3s-io/helm-controller#64); every
 * release of 1.33 and later has it.
 */
const VALUES_SECRETS_SINCE: Readonly<Record<number, number>> = { 30: 12, 31: 8, 32: 4 };

/** Checks the Rancher part of server 0's input (`k3sVersion` against `valuesSecrets`). */
export function validateRancherInstall(
  rancher: RancherInstallInput,
  mode: LoadBalancerMode,
  k3sVersion: string,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  if (!/^\d+\.\d+\.\d+$/.test(rancher.version))
    add("rancher.version", "must be a Rancher chart version such as 2.12.3");
  if (rancher.chartRepository !== undefined && !/^https:\/\/[A-Za-z0-9./_-]+$/.test(rancher.chartRepository))
    add("rancher.chartRepository", "must be an https:// URL");
  if (!Number.isInteger(rancher.replicas) || rancher.replicas < 0 || rancher.replicas > 7)
    add("rancher.replicas", "must be a whole number from 0 to 7 when the cluster installs Rancher");
  const cm = rancher.certManagerVersion;
  if (mode === "l4" && cm === undefined)
    add("rancher.certManagerVersion", "is required on L4: Rancher's certificate comes from cert-manager");
  if (cm !== undefined && !/^v\d+\.\d+\.\d+$/.test(cm))
    add("rancher.certManagerVersion", "must be a cert-manager chart version such as v1.18.2");
  const k3s = parseK3sVersion(k3sVersion);
  if (k3s && k3s.major === 1 && k3s.minor < 33) {
    const since = VALUES_SECRETS_SINCE[k3s.minor];
    if (since === undefined || k3s.patch < since)
      add(
        "k3s.version",
        `${k3sVersion} cannot read chart values from a Secret (K3s's Helm controller has valuesSecrets from ` +
          "v1.30.12, v1.31.8, v1.32.4 and 1.33 on), which keeps Rancher's bootstrap password out of the " +
          "HelmChart; choose a newer K3s release or set rancher.install: false",
      );
  }
  return issues;
}

const q = (s: string): string => JSON.stringify(s);
const indent = (text: string, spaces: number): string[] =>
  text.split("\n").map((line) => (line === "" ? line : `${" ".repeat(spaces)}${line}`));

/**
 * The manifest: on L4 a HelmChart for cert-manager, pinned, with its CRDs (`crds.enabled`, cert-manager ≥ 1.15:
 * https://cert-manager.io/docs/installation/helm/); the Secret with the bootstrap password; the HelmChart for
 * Rancher (release `rancher` in `cattle-system`, both required by Rancher), pinned, with `hostname`,
 * `replicas`, and on L7 `tls: external` (TLS ends at the load balancer) and `agentTLSMode: system-store`
 * (Rancher ≥ 2.9 defaults new installs to `strict`, where agents trust only the CA in Rancher's `cacerts`
 * setting, which an external certificate leaves empty:
 * https://ranchermanager.docs.rancher.com/getting-started/installation-and-upgrade/installation-references/tls-settings#agent-tls-enforcement).
 *
 * The password reaches the chart through `valuesSecrets` (https://docs.k3s.io/helm#chart-values-from-secrets),
 * not `valuesContent`, so it is in no HelmChart object, and every install the controller retries (Rancher's
 * chart fails until cert-manager's CRDs exist; a failed install is reinstalled) gets it. Rancher's chart turns
 * it into its `bootstrap-secret` and keeps an existing one's value on upgrades (`lookup` in
 * rancher/rancher chart/templates/secret.yaml; the pod reads it as `CATTLE_BOOTSTRAP_PASSWORD`). Creating
 * `bootstrap-secret` ourselves would not survive that reinstall: Helm would delete it with the failed
 * release. `password` is the value (inline mode) or `SECRET_PLACEHOLDERS.rancherBootstrapPassword` (store mode).
 */
export function renderRancherManifests(o: {
  readonly hostname: string;
  readonly mode: LoadBalancerMode;
  readonly rancher: RancherInstallInput;
  readonly password: string;
}): string {
  const helmChart = (name: string, spec: string[], values: string[]) => [
    "apiVersion: helm.cattle.io/v1",
    "kind: HelmChart",
    "metadata:",
    `  name: ${name}`,
    "  namespace: kube-system",
    "spec:",
    ...spec.map((l) => `  ${l}`),
    "  valuesContent: |-",
    ...indent(values.join("\n"), 4),
  ];
  const docs: string[][] = [];
  const cm = o.rancher.certManagerVersion;
  if (o.mode === "l4" && cm !== undefined)
    docs.push(
      helmChart(
        "cert-manager",
        [
          `repo: ${CERT_MANAGER_CHART_REPO}`,
          "chart: cert-manager",
          `version: ${q(cm)}`,
          "targetNamespace: cert-manager",
          "createNamespace: true",
        ],
        ["crds:", "  enabled: true"],
      ),
    );
  docs.push([
    "apiVersion: v1",
    "kind: Secret",
    "metadata:",
    `  name: ${RANCHER_BOOTSTRAP_VALUES_SECRET}`,
    "  namespace: kube-system",
    "type: Opaque",
    "stringData:",
    "  values.yaml: |-",
    `    bootstrapPassword: ${q(o.password)}`,
  ]);
  const values = [
    `hostname: ${q(o.hostname)}`,
    `replicas: ${o.rancher.replicas}`,
    ...(o.mode === "l7" ? [`tls: ${q("external")}`, `agentTLSMode: ${q("system-store")}`] : []),
  ];
  const rancher = helmChart(
    "rancher",
    [
      `repo: ${o.rancher.chartRepository ?? RANCHER_CHART_REPO}`,
      "chart: rancher",
      `version: ${q(o.rancher.version)}`,
      "targetNamespace: cattle-system",
      "createNamespace: true",
      "valuesSecrets:",
      `  - name: ${RANCHER_BOOTSTRAP_VALUES_SECRET}`,
      "    keys:",
      "      - values.yaml",
    ],
    values,
  );
  docs.push(rancher);
  const header = `# Written by k3sinfra on server 0: K3s's Helm controller installs ${o.mode === "l4" ? "cert-manager and " : ""}Rancher. Mode 0600: holds Rancher's bootstrap password.`;
  return `${header}\n${docs.map((d) => d.join("\n")).join("\n---\n")}\n`;
}

/**
 * The `rancher-manifests` stage (server 0, once K3s serves): the manifest is moved into K3s's manifests
 * directory once; a later run finds it there and does nothing. In store mode the bootstrap password is read
 * in a subshell (it stays there) and filled in with `fill_secrets`; in inline mode the template holds it.
 */
export function renderRancherStage(o: { readonly passwordSecret?: string | undefined }): string {
  const fill = o.passwordSecret
    ? `  (
    read_secret "$RANCHER_PASSWORD_SECRET" password_chars
    [ \${#SECRET} -ge 12 ] || die "secret $RANCHER_PASSWORD_SECRET is shorter than Rancher's 12 characters"
    SECRET_RANCHER_PASSWORD=$SECRET
    fill_secrets <"$RANCHER_TEMPLATE" >"$RANCHER_MANIFEST.tmp"
  ) || { FAILED=1; exit 1; }
`
    : `  cp "$RANCHER_TEMPLATE" "$RANCHER_MANIFEST.tmp"
`;
  return `
stage rancher-manifests start
RANCHER_TEMPLATE=${RANCHER_MANIFEST_TEMPLATE_PATH}
RANCHER_MANIFEST=${RANCHER_MANIFEST_PATH}
${o.passwordSecret ? `RANCHER_PASSWORD_SECRET='${o.passwordSecret}'\n` : ""}if [ -f "$RANCHER_MANIFEST" ]; then
  stage rancher-manifests ok "already handed to K3s ($RANCHER_MANIFEST)"
else
  mkdir -p "\${RANCHER_MANIFEST%/*}"
${fill}  chmod 0600 "$RANCHER_MANIFEST.tmp"
  mv "$RANCHER_MANIFEST.tmp" "$RANCHER_MANIFEST"
  stage rancher-manifests ok "handed to K3s's Helm controller; watch with: kubectl get helmcharts -A"
fi
`;
}
