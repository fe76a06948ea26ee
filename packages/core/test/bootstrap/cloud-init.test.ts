import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BOOTSTRAP_SCRIPT_PATH,
  CONFIG_TEMPLATE_PATH,
  DATASTORE_CA_PATH,
  METADATA_READERS,
  renderCloudInit,
  TRAEFIK_CONFIG_PATH,
} from "../../src/bootstrap/index.js";
import { InvalidConfigError } from "../../src/errors.js";
import { Secret } from "../../src/secret.js";
import { DB_PASSWORD, fileAt, input, L7, parseCloudConfig, TOKEN } from "./fixtures.js";
import { describeWithTools, requireTools } from "./tools.js";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const cases = ["l4", "l7"].flatMap((mode) =>
  [2, 3].flatMap((count) => Array.from({ length: count }, (_, index) => ({ mode, count, index }))),
);
const render = (c: { mode: string; count: number; index: number }, reader = METADATA_READERS.aws) =>
  renderCloudInit(
    input(c.index, c.count, {
      loadBalancer: c.mode === "l7" ? L7 : { mode: "l4", addresses: ["203.0.113.10"] },
      metadataReader: reader,
    }),
  );

describe("renderCloudInit", () => {
  it.each(cases)("$mode, server $index of $count: files, modes and contents", (c) => {
    const doc = parseCloudConfig(render(c));
    const template = fileAt(doc, CONFIG_TEMPLATE_PATH)!;
    expect(template.permissions).toBe("0600");
    expect(template.content).toContain(`token: "${TOKEN}"`);
    expect(template.content).toMatch(
      /^datastore-endpoint: "mysql:\/\/k3s:[^"]+@tcp\(@K3SINFRA_DATASTORE_ADDRESS@\)\/k3s"$/m,
    );
    expect(template.content).not.toMatch(/tls=|cluster-init|disable|datastore-cafile/);
    expect(template.content).toContain('tls-san:\n  - "rancher.example.com"\n');
    expect(template.content).toContain('write-kubeconfig-mode: "0600"');
    expect(fileAt(doc, BOOTSTRAP_SCRIPT_PATH)!.permissions).toBe("0700");
    expect(doc.runcmd).toEqual([[BOOTSTRAP_SCRIPT_PATH]]);
    const traefik = fileAt(doc, TRAEFIK_CONFIG_PATH);
    if (c.mode === "l7") {
      expect(traefik!.content).toContain("kind: HelmChartConfig");
      expect(traefik!.content).toMatch(
        /forwardedHeaders:\n\s+trustedIPs:\n\s+- "10.0.0.0\/16"\n\s+- "10.1.0.0\/16"/,
      );
    } else {
      expect(traefik).toBeUndefined();
    }
    const script = fileAt(doc, BOOTSTRAP_SCRIPT_PATH)!.content;
    expect(script).toContain(`NODE_INDEX=${c.index}\n`);
    expect(script).toContain('INSTALL_K3S_VERSION="$K3S_VERSION" sh /run/k3sinfra-install.sh server');
  });

  it("keeps secrets out of the script and every runcmd", () => {
    for (const c of cases) {
      const doc = parseCloudConfig(render(c));
      const script = fileAt(doc, BOOTSTRAP_SCRIPT_PATH)!.content;
      for (const secret of [TOKEN, DB_PASSWORD]) {
        expect(script).not.toContain(secret);
        expect(JSON.stringify(doc.runcmd)).not.toContain(secret);
      }
      expect(script).not.toMatch(/INSTALL_K3S_EXEC|K3S_TOKEN|K3S_DATASTORE_ENDPOINT/);
    }
  });

  it("writes the CA inline or downloads it, and points K3s at it", () => {
    const inline = parseCloudConfig(
      renderCloudInit(input(0, 2, { datastore: { ...input(0, 2).datastore, tls: { caBundle: CA } } })),
    );
    expect(fileAt(inline, DATASTORE_CA_PATH)!.content).toBe(CA);
    expect(fileAt(inline, CONFIG_TEMPLATE_PATH)!.content).toContain(
      `datastore-cafile: "${DATASTORE_CA_PATH}"`,
    );
    const url = "https://truststore.pki.rds.amazonaws.com/us-east-1/us-east-1-bundle.pem";
    const byUrl = parseCloudConfig(
      renderCloudInit(input(0, 2, { datastore: { ...input(0, 2).datastore, tls: { caUrl: url } } })),
    );
    expect(fileAt(byUrl, DATASTORE_CA_PATH)).toBeUndefined();
    expect(fileAt(byUrl, BOOTSTRAP_SCRIPT_PATH)!.content).toContain(`CA_URL='${url}'`);
    expect(fileAt(byUrl, CONFIG_TEMPLATE_PATH)!.content).toContain("datastore-cafile:");
  });

  it("does not depend on the node count, so scaling never replaces a server", () => {
    expect(renderCloudInit(input(1, 2))).toBe(renderCloudInit(input(1, 3)));
    expect(renderCloudInit(input(1, 2))).toBe(renderCloudInit({ ...input(1, 2), count: undefined }));
  });

  it("refuses invalid input with config issues", () => {
    const bad = () =>
      renderCloudInit(
        input(2, 2, {
          datastore: { user: "k3s", password: new Secret("pa@ss:word"), database: "k3s" },
          loadBalancer: { mode: "l7" },
        }),
      );
    expect(bad).toThrow(InvalidConfigError);
    try {
      bad();
    } catch (e) {
      const paths = (e as InvalidConfigError).issues.map((i) => i.path);
      expect(paths).toEqual(["nodes.index", "datastore.password", "loadBalancer.sourceCidrs"]);
      expect((e as Error).message).not.toContain("pa@ss:word");
    }
  });
});

const script = (text: string) => fileAt(parseCloudConfig(text), BOOTSTRAP_SCRIPT_PATH)!.content;

describeWithTools(["shellcheck"])("shellcheck", () => {
  const readers = Object.entries(METADATA_READERS);
  it.each(cases.flatMap((c) => readers.map(([provider, reader]) => ({ ...c, provider, reader }))))(
    "$mode, server $index of $count, $provider reader: the bootstrap script is clean",
    ({ reader, ...c }) => {
      requireTools(["shellcheck"]);
      const result = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script(render(c, reader)) });
      expect(result.stdout.toString() + result.stderr.toString()).toBe("");
      expect(result.status).toBe(0);
    },
  );

  it("flags a broken custom reader (the check can fail)", () => {
    requireTools(["shellcheck"]);
    const result = spawnSync("shellcheck", ["-s", "sh", "-"], {
      input: script(render(cases[0]!, "  echo $UNQUOTED_VARIABLE $1")),
    });
    expect(result.status).not.toBe(0);
  });
});

describeWithTools(["cloud-init"])("cloud-init schema", () => {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-ci-"));
  it.each(cases.filter((c) => c.index < 2))("$mode, server $index of $count: valid cloud-config", (c) => {
    requireTools(["cloud-init"]);
    const file = join(dir, `${c.mode}-${c.count}-${c.index}.yaml`);
    writeFileSync(file, render(c));
    const result = spawnSync("cloud-init", ["schema", "--config-file", file]);
    expect(result.stderr.toString()).toBe("");
    expect(result.status).toBe(0);
  });

  it("rejects an invalid document (the check can fail)", () => {
    requireTools(["cloud-init"]);
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "#cloud-config\nwrite_files: {path: 3}\nruncmd: 5\n");
    expect(spawnSync("cloud-init", ["schema", "--config-file", file]).status).not.toBe(0);
  });
});
