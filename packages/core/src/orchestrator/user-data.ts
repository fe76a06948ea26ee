import type { ClusterConfig } from "../config/schema.js";
import type { ClusterSecrets } from "../state/types.js";

/** Everything the node bootstrap needs that core knows before the node exists. */
export interface UserDataInput {
  readonly config: ClusterConfig;
  readonly index: number;
  readonly k3sVersion: string;
  readonly secrets: ClusterSecrets;
  /** Shell function body printing a published value, from the compute provider. */
  readonly metadataReader: string | undefined;
}

/** Renders the cloud-init user data for one server. Replaced by the bootstrap generator once it lands. */
export function renderUserData(input: UserDataInput): string {
  const { config, index, k3sVersion } = input;
  return [
    "#cloud-config",
    `# k3sinfra ${config.name} server ${index}, K3s ${k3sVersion}`,
    "write_files:",
    "  - path: /etc/rancher/k3s/config.yaml",
    '    permissions: "0600"',
    "    content: |",
    `      token: ${input.secrets.k3sToken}`,
    `      tls-san: [${config.rancher.hostname}]`,
    "",
  ].join("\n");
}
