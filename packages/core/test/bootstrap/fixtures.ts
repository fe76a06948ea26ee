import { parse } from "yaml";
import type { BootstrapInput } from "../../src/bootstrap/index.js";
import { AWS_METADATA_READER } from "../../src/bootstrap/index.js";
import { Secret } from "../../src/secret.js";

export const TOKEN = "K3sTokenSecretValue0123456789abcdef";
export const DB_PASSWORD = "DbPasswordSecretValue0123456789AB";

/** A valid input for server `index` of `count`; override any part. */
export function input(index: number, count: number, over: Partial<BootstrapInput> = {}): BootstrapInput {
  return {
    index,
    count,
    k3sVersion: "v1.33.12+k3s1",
    token: new Secret(TOKEN),
    datastore: { user: "k3s", password: new Secret(DB_PASSWORD), database: "k3s" },
    hostname: "rancher.example.com",
    loadBalancer: { mode: "l4", addresses: ["203.0.113.10"] },
    metadataReader: AWS_METADATA_READER,
    ...over,
  };
}

export const L7 = { mode: "l7", sourceCidrs: ["10.0.0.0/16", "10.1.0.0/16"] } as const;

export interface WriteFile {
  path: string;
  permissions: string;
  owner: string;
  content: string;
}

/** The parsed `#cloud-config` document. */
export function parseCloudConfig(text: string): { write_files: WriteFile[]; runcmd: unknown[] } {
  if (!text.startsWith("#cloud-config\n")) throw new Error("missing #cloud-config header");
  return parse(text);
}

/** The file cloud-init writes at `path`. */
export function fileAt(doc: { write_files: WriteFile[] }, path: string): WriteFile | undefined {
  return doc.write_files.find((f) => f.path === path);
}
