import type { LoadBalancerMode } from "../resources/load-balancer.js";
import type { Secret } from "../secret.js";

/** What the Rancher install commands depend on. */
export interface RancherCommandsInput {
  /** The Rancher URL's host name; it can never change after install. */
  readonly hostname: string;
  /** Rancher chart version, e.g. `2.12.3`. */
  readonly version: string;
  /** Rancher pods (the chart's `replicas`: https://ranchermanager.docs.rancher.com/getting-started/installation-and-upgrade/installation-references/helm-chart-options). */
  readonly replicas: number;
  readonly mode: LoadBalancerMode;
  readonly bootstrapPassword: Secret;
  /** False prints `********` in place of the bootstrap password. */
  readonly showSecrets: boolean;
  /** Rancher chart repository channel. Default `stable`. */
  readonly channel?: "stable" | "latest";
  /** L4: the cert-manager chart version to pin (`certManagerVersionFor`); unset: the newest. */
  readonly certManagerVersion?: string | undefined;
}

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Helm commands, in order, to install Rancher on the new cluster (KUBECONFIG from `kubeconfigCommands`).
 * L4: cert-manager (with its CRDs, waited for) because Rancher's default `ingress.tls.source=rancher` needs
 * it. L7: `tls=external`, `agentTLSMode=system-store` and no cert-manager, since TLS ends at the LB
 * (https://ranchermanager.docs.rancher.com/getting-started/installation-and-upgrade/installation-references/helm-chart-options).
 * The bootstrap password goes through a values document on stdin (`-f -`), so it is never an argument.
 */
export function renderRancherCommands(input: RancherCommandsInput): string[] {
  const channel = input.channel ?? "stable";
  const password = input.showSecrets ? input.bootstrapPassword.reveal() : "********";
  const commands = [
    ...(input.mode === "l4" ? ["helm repo add jetstack https://charts.jetstack.io --force-update"] : []),
    `helm repo add rancher-${channel} https://releases.rancher.com/server-charts/${channel} --force-update`,
    "helm repo update",
  ];
  if (input.mode === "l4") {
    commands.push(
      "helm upgrade --install cert-manager jetstack/cert-manager --namespace cert-manager --create-namespace " +
        `${input.certManagerVersion ? `--version ${sq(input.certManagerVersion)} ` : ""}` +
        "--set crds.enabled=true --wait --timeout 10m",
    );
  }
  const values = [
    `hostname: ${JSON.stringify(input.hostname)}`,
    `replicas: ${input.replicas}`,
    `bootstrapPassword: ${JSON.stringify(password)}`,
    // L7: TLS ends at the LB, whose certificate Rancher ≥ 2.9's default strict agent TLS would not trust
    // (https://ranchermanager.docs.rancher.com/getting-started/installation-and-upgrade/installation-references/tls-settings#agent-tls-enforcement).
    ...(input.mode === "l7" ? ['tls: "external"', 'agentTLSMode: "system-store"'] : []),
  ];
  commands.push(
    `helm upgrade --install rancher rancher-${channel}/rancher --namespace cattle-system --create-namespace ` +
      `--version ${sq(input.version)} --wait --timeout 15m -f - <<'EOF'\n${values.join("\n")}\nEOF`,
    "kubectl -n cattle-system rollout status deploy/rancher --timeout=15m",
  );
  return commands;
}

/** What the cluster installs itself (`rancher.install`, the default). */
export interface RancherWatchInput {
  readonly version: string;
  readonly mode: LoadBalancerMode;
  /** L4: the cert-manager chart version installed first. */
  readonly certManagerVersion?: string | undefined;
}

/**
 * With `rancher.install` the cluster installs Rancher itself: server 0 hands K3s's Helm controller a manifest
 * (`rancher-install.ts`), so there is nothing to run, only progress to watch (KUBECONFIG from
 * `kubeconfigCommands`): the HelmCharts, the controller's install jobs, then Rancher's rollout
 * (https://docs.k3s.io/helm).
 */
export function renderRancherWatchCommands(input: RancherWatchInput): string[] {
  const what =
    input.mode === "l4" && input.certManagerVersion
      ? `cert-manager ${input.certManagerVersion} and Rancher ${input.version}`
      : `Rancher ${input.version}`;
  return [
    `# Nothing to run: once K3s serves, server 0 hands ${what} to K3s's Helm controller, which installs and retries on its own. To watch it:`,
    "kubectl get helmcharts -A",
    ...(input.mode === "l4" ? ["kubectl -n kube-system logs -f job/helm-install-cert-manager"] : []),
    "kubectl -n kube-system logs -f job/helm-install-rancher",
    "kubectl -n cattle-system rollout status deploy/rancher --timeout=15m",
    "# Then log in at the Rancher URL as admin with the bootstrap password (outputs --show-secrets); Rancher asks for a new one.",
  ];
}

/** Where the kubeconfig comes from and which address reaches the K3s API. */
export interface KubeconfigInput {
  /** The first server: an address this machine reaches on 22 and 6443 (public IP, or private over VPN). */
  readonly firstServer: { readonly address: string; readonly sshUser?: string | undefined };
  /** The Rancher hostname, which is in every server certificate's SANs (`tls-san`). */
  readonly hostname: string;
  /** Local file to write. Default `kubeconfig.yaml`. */
  readonly file?: string;
  /** True only when `<hostname>:6443` reaches the API (an LB listener on 6443). Default false. */
  readonly apiViaHostname?: boolean;
}

/**
 * Commands that fetch `/etc/rancher/k3s/k3s.yaml` (it points at 127.0.0.1) and point it at the cluster.
 * The Rancher LB carries only 80/443, so `https://<hostname>:6443` does not answer by default. Instead the
 * kubeconfig targets the first server's address and verifies its certificate against the hostname
 * (`tls-server-name`), which is in the SANs while the address (a NATed public IP) may not be.
 */
export function kubeconfigCommands(input: KubeconfigInput): string[] {
  const file = input.file ?? "kubeconfig.yaml";
  const user = input.firstServer.sshUser ?? "ubuntu";
  const address = input.firstServer.address;
  const host = address.includes(":") ? `[${address}]` : address;
  const setCluster = input.apiViaHostname
    ? `--server=https://${input.hostname}:6443`
    : `--server=https://${host}:6443 --tls-server-name=${input.hostname}`;
  return [
    "# Without SSH, read the file with your cloud's run-command or serial console access.",
    `ssh ${sq(`${user}@${address}`)} sudo cat /etc/rancher/k3s/k3s.yaml > ${sq(file)}`,
    `chmod 600 ${sq(file)}`,
    `kubectl --kubeconfig ${sq(file)} config set-cluster default ${setCluster}`,
    `export KUBECONFIG="$PWD/${file}"`,
    "kubectl get nodes",
  ];
}
