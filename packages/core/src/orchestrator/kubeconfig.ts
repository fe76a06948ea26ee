import { parseDocument } from "yaml";
import type { KubeconfigResult } from "../api/types.js";
import type { ClusterConfig } from "../config/schema.js";
import { InvalidConfigError, NotFoundError } from "../errors.js";
import type { NodeState } from "../resources/node.js";
import { SecretStoreService } from "../resources/secret-store.js";
import { atomicWrite, ensureDir } from "../state/fs-util.js";
import { usesSecretStore } from "./desired.js";
import { stateIn } from "./kinds/index.js";
import type { AppliedConfig } from "./outputs.js";
import type { ClusterRun } from "./run.js";

/** The K3s API port; the firewall opens it to `nodes.adminCidrs` only. */
const API_PORT = 6443;

/**
 * Where this machine reaches the K3s API: a server's public address when `nodes.adminCidrs` opens 6443 to
 * some ranges (the certificate is checked against the Rancher hostname, which every server has in its
 * `tls-san`, since the public IP is not), otherwise 127.0.0.1 through a tunnel the provider describes.
 */
function route(config: ClusterConfig, node: NodeState, tunnel: string | undefined) {
  if (config.nodes.adminCidrs.length > 0 && node.publicIp) {
    return {
      server: `https://${node.publicIp}:${API_PORT}`,
      tlsServerName: config.rancher.hostname,
      via: "public" as const,
      notes: [
        `# The API answers only addresses in nodes.adminCidrs (${config.nodes.adminCidrs.join(", ")}); from elsewhere, add yours there and run k3sinfra up.`,
      ],
    };
  }
  // 127.0.0.1 is in every K3s serving certificate (https://docs.k3s.io/cli/server#listeners).
  return {
    server: `https://127.0.0.1:${API_PORT}`,
    tlsServerName: undefined,
    via: "tunnel" as const,
    notes: [
      "# nodes.adminCidrs is empty, so 6443 is closed to the outside: open a tunnel to the first server first, in another terminal:",
      tunnel ??
        `# (this provider describes no tunnel: reach ${node.privateIp}:${API_PORT} from inside the network, e.g. through a bastion: ssh -L ${API_PORT}:${node.privateIp}:${API_PORT} <bastion>)`,
    ],
  };
}

/** Points every cluster entry of a kubeconfig at `server` (and the name to check its certificate against). */
export function rewriteServer(kubeconfig: string, server: string, tlsServerName: string | undefined): string {
  const doc = parseDocument(kubeconfig);
  const clusters = doc.get("clusters") as { items?: { get(k: string): unknown }[] } | undefined;
  const items = clusters?.items ?? [];
  if (items.length === 0) throw new NotFoundError("The stored kubeconfig has no cluster entry.");
  for (const item of items) {
    const cluster = item.get("cluster") as { set(k: string, v: unknown): void; delete(k: string): void };
    cluster.set("server", server);
    if (tlsServerName) cluster.set("tls-server-name", tlsServerName);
    else cluster.delete("tls-server-name");
  }
  return doc.toString();
}

/**
 * Fetches the kubeconfig server 0 stored in the secret store once K3s served, with the user's credentials,
 * points it at an address this machine can use, and writes it 0600. Never prints its contents.
 */
export async function fetchKubeconfig(run: ClusterRun, path: string): Promise<KubeconfigResult> {
  const state = await run.readState({ secrets: false });
  const name = run.config.name;
  const first = state && stateIn(state.resources, "nodes", "node-0");
  if (!state || !first)
    throw new NotFoundError(`Cluster ${name} has no servers yet: run \`k3sinfra up\` first.`);
  if (!usesSecretStore(run.resolved))
    throw new InvalidConfigError([
      {
        path: "provider",
        message: `'${run.resolved.compute.provider.name}' keeps no secret store, so no server stored a kubeconfig: copy /etc/rancher/k3s/k3s.yaml from the first server (see the kubeconfig commands in k3sinfra outputs)`,
      },
    ]);
  run.adopt(state);
  const store = run.container.resolve(SecretStoreService);
  const stored = await run.call(
    "secrets",
    "secrets",
    "read",
    run.signal,
    (ctx) => store.reveal("kubeconfig", ctx),
    0,
  );
  if (!stored)
    throw new NotFoundError(
      `The first server has not stored its kubeconfig yet (${store.nameOf(name, "kubeconfig")}): K3s is probably still starting. Wait a few minutes and run k3sinfra kubeconfig again; k3sinfra status shows whether the servers run.`,
    );
  const applied = (state.applied as AppliedConfig | undefined)?.config ?? run.config;
  const tunnel = run.resolved.compute.provider.apiTunnel?.(
    { id: first.id, privateIp: first.privateIp },
    API_PORT,
    applied.region,
  );
  const r = route(applied, first, tunnel);
  const content = rewriteServer(stored.reveal(), r.server, r.tlsServerName);
  // 0700 directory, 0600 file (writeTemp creates it so): the file holds the cluster admin's credentials.
  await ensureDir(path);
  await atomicWrite(path, content);
  return {
    path,
    server: r.server,
    via: r.via,
    commands: [...r.notes, `export KUBECONFIG=${path}`, "kubectl get nodes -o wide"],
  };
}
