import { parse } from "yaml";
import type { BootstrapInput, InlineSecretsInput, MetadataReader } from "../../src/bootstrap/index.js";
import { Secret } from "../../src/secret.js";

export const TOKEN = "K3sTokenSecretValue0123456789abcdef";
export const DB_PASSWORD = "DbPasswordSecretValue0123456789AB";
export const ADMIN_PASSWORD = "AdminPasswordSecretValue0123456789";
export const ADMIN = { user: "k3sadmin", password: ADMIN_PASSWORD } as const;
export const CA_URL = "https://truststore.pki.rds.amazonaws.com/us-east-1/us-east-1-bundle.pem";

/**
 * Metadata readers of the shapes providers write (core ships none): a token then a tag path ending in
 * `k3sinfra:<key>`, which the sandbox's fake curl answers; a header-authenticated attribute; a text listing
 * filtered with a pipeline. The first is the default reader of these fixtures.
 */
export const TEST_METADATA_READERS: Readonly<Record<string, MetadataReader>> = {
  "token-then-tag": [
    "  t=$(curl -fsS -m 5 -X PUT -H 'X-metadata-token-ttl-seconds: 300' \\",
    "    http://169.254.169.254/latest/api/token) || return 1",
    '  curl -fsS -m 5 -H "X-metadata-token: $t" \\',
    '    "http://169.254.169.254/latest/meta-data/tags/instance/k3sinfra:$1"',
  ].join("\n"),
  "header-attribute": [
    "  curl -fsS -m 5 -H 'Metadata-Flavor: test' \\",
    '    "http://metadata.example.internal/v1/instance/attributes/k3sinfra-$1"',
  ].join("\n"),
  "text-pipeline": [
    "  curl -fsS -m 5 -H 'Metadata: true' \\",
    "    'http://169.254.169.254/metadata/instance/tags?format=text' |",
    "    tr ';' '\\n' | sed -n \"s/^k3sinfra-$1://p\" | grep .",
  ].join("\n"),
};
export const TEST_METADATA_READER = TEST_METADATA_READERS["token-then-tag"] as MetadataReader;

/** A valid input for server `index` of `count`; override any part. */
export function input(
  index: number,
  count: number,
  over: Partial<InlineSecretsInput> = {},
): InlineSecretsInput {
  return {
    index,
    count,
    k3sVersion: "v1.33.12+k3s1",
    token: new Secret(TOKEN),
    datastore: { user: "k3s", password: new Secret(DB_PASSWORD), database: "k3s" },
    hostname: "rancher.example.com",
    loadBalancer: { mode: "l4", addresses: ["203.0.113.10"] },
    metadataReader: TEST_METADATA_READER,
    ...over,
  };
}

/** Server `index` of `count` with datastore admin credentials and `tls` (default: the CA by URL; null: none). */
export function withAdmin(
  index: number,
  count: number,
  over: Partial<InlineSecretsInput> = {},
  tls: BootstrapInput["datastore"]["tls"] | null = { caUrl: CA_URL },
): InlineSecretsInput {
  const base = input(index, count, over);
  return {
    ...base,
    datastore: {
      ...base.datastore,
      tls: tls ?? undefined,
      admin: { user: ADMIN.user, password: new Secret(ADMIN_PASSWORD) },
    },
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
