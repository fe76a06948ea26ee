import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BOOTSTRAP_SCRIPT_PATH,
  BOOTSTRAP_UNIT_NAME,
  CONFIG_TEMPLATE_PATH,
  DATASTORE_CA_PATH,
  DATASTORE_PREP_PATHS,
  renderCloudInit,
  TRAEFIK_CONFIG_PATH,
  validateBootstrapInput,
} from "../../src/bootstrap/index.js";
import { InvalidConfigError } from "../../src/errors.js";
import { Secret } from "../../src/secret.js";
import {
  ADMIN,
  ADMIN_PASSWORD,
  DB_PASSWORD,
  fileAt,
  input,
  L7,
  parseCloudConfig,
  TEST_METADATA_READER,
  TEST_METADATA_READERS,
  TOKEN,
  withAdmin,
} from "./fixtures.js";
import { describeWithTools, requireTools } from "./tools.js";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const cases = ["l4", "l7"].flatMap((mode) =>
  [2, 3].flatMap((count) => Array.from({ length: count }, (_, index) => ({ mode, count, index }))),
);
interface Case {
  mode: string;
  count: number;
  index: number;
  /** With datastore admin credentials and the CA by URL. */
  admin?: boolean;
}
const render = (c: Case, reader = TEST_METADATA_READER) => {
  const over = {
    loadBalancer: c.mode === "l7" ? L7 : ({ mode: "l4", addresses: ["203.0.113.10"] } as const),
    metadataReader: reader,
  };
  return renderCloudInit(c.admin ? withAdmin(c.index, c.count, over) : input(c.index, c.count, over));
};
const allCases: Case[] = [...cases, ...cases.map((c) => ({ ...c, admin: true }))];

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
    // The script runs as a systemd unit (restarted until it succeeds, again after a reboot), not from runcmd.
    expect(doc.runcmd).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "--no-block", BOOTSTRAP_UNIT_NAME],
    ]);
    const traefik = fileAt(doc, TRAEFIK_CONFIG_PATH)!;
    expect(traefik.content).toContain("kind: HelmChartConfig");
    expect(traefik.content).toContain("deployment:\n      replicas: 2\n");
    if (c.mode === "l7") {
      expect(traefik.content).toMatch(
        /forwardedHeaders:\n\s+trustedIPs:\n\s+- "10.0.0.0\/16"\n\s+- "10.1.0.0\/16"\n\s+- "10.42.0.0\/16"/,
      );
    } else {
      expect(traefik.content).not.toContain("forwardedHeaders");
    }
    const script = fileAt(doc, BOOTSTRAP_SCRIPT_PATH)!.content;
    expect(script).toContain(`NODE_INDEX=${c.index}\n`);
    expect(script).toContain('INSTALL_K3S_VERSION="$K3S_VERSION" sh /run/k3sinfra-install.sh server');
  });

  it("keeps secrets out of the script and every runcmd", () => {
    for (const c of allCases) {
      const doc = parseCloudConfig(render(c));
      const script = fileAt(doc, BOOTSTRAP_SCRIPT_PATH)!.content;
      for (const secret of [TOKEN, DB_PASSWORD, ADMIN_PASSWORD]) {
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

  it("server 0 with an admin: 0600 client option files and idempotent SQL; no other server gets them", () => {
    const doc = parseCloudConfig(renderCloudInit(withAdmin(0, 3)));
    const admin = fileAt(doc, DATASTORE_PREP_PATHS.adminOptions)!;
    const k3s = fileAt(doc, DATASTORE_PREP_PATHS.k3sOptions)!;
    const sql = fileAt(doc, DATASTORE_PREP_PATHS.sql)!;
    for (const f of [admin, k3s, sql]) expect(f.permissions).toBe("0600");
    expect(admin.content).toBe(`[client]\nuser=${ADMIN.user}\npassword=${ADMIN_PASSWORD}\n`);
    expect(k3s.content).toBe(`[client]\nuser=k3s\npassword=${DB_PASSWORD}\n`);
    expect(sql.content.split("\n").filter(Boolean)).toEqual([
      "CREATE DATABASE IF NOT EXISTS `k3s`;",
      `CREATE USER IF NOT EXISTS 'k3s'@'%' IDENTIFIED BY '${DB_PASSWORD}';`,
      `ALTER USER 'k3s'@'%' IDENTIFIED BY '${DB_PASSWORD}';`,
      "GRANT ALL PRIVILEGES ON `k3s`.* TO 'k3s'@'%';",
    ]);
    const script = fileAt(doc, BOOTSTRAP_SCRIPT_PATH)!.content;
    expect(script).toContain(`ADMIN_CNF=${DATASTORE_PREP_PATHS.adminOptions}\n`);
    expect(script).toContain("DB_TLS=1\n");
    for (const index of [1, 2]) {
      const other = renderCloudInit(withAdmin(index, 3));
      expect(other).not.toContain("DB_NAME=");
      for (const path of Object.values(DATASTORE_PREP_PATHS)) expect(other).not.toContain(path);
    }
  });

  it("stays under EC2's 16 KB user-data limit: L7, 3 servers, admin, CA by URL, generated secrets", () => {
    // Sizes as core generates them (token 48, passwords 32 alphanumerics), long names, 3 subnets.
    const secret = (n: number) => new Secret("x".repeat(n));
    const sizes = [0, 1, 2].map((index) => {
      const node = withAdmin(index, 3, {
        token: secret(48),
        hostname: `rancher.${"a".repeat(40)}.example.com`,
        loadBalancer: { mode: "l7", sourceCidrs: ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"] },
        metadataReader: TEST_METADATA_READER,
      });
      const datastore = {
        ...node.datastore,
        user: "k3s_user_sixteen",
        password: secret(32),
        database: "k3s_database",
        admin: { user: "k3sadmin_sixteen", password: secret(32) },
        tls: { caUrl: "https://truststore.pki.rds.amazonaws.com/ap-southeast-3/ap-southeast-3-bundle.pem" },
      };
      return Buffer.byteLength(renderCloudInit({ ...node, datastore }), "utf8");
    });
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html: 16 KB before base64.
    for (const size of sizes) expect(size).toBeLessThan(16 * 1024);
    expect(sizes[0]).toBeGreaterThan(sizes[1]!); // server 0 carries the preparation
    expect(sizes[1]).toBe(sizes[2]);
    console.info(`user data bytes (L7, 3 servers, admin, CA URL): ${sizes.join(", ")}`);
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

  it("refuses admin credentials that would break the option file, or that are the K3s user", () => {
    const issues = (admin: { user: string; password: Secret }) =>
      validateBootstrapInput({ ...input(0, 2), datastore: { ...input(0, 2).datastore, admin } }).map(
        (i) => i.path,
      );
    expect(issues({ user: "k3sadmin", password: new Secret("Alnum0123") })).toEqual([]);
    expect(issues({ user: "k3sadmin", password: new Secret("has#hash") })).toEqual([
      "datastore.admin.password",
    ]);
    expect(issues({ user: "k3sadmin", password: new Secret("it's") })).toEqual(["datastore.admin.password"]);
    expect(issues({ user: "k3sadmin", password: new Secret("") })).toEqual(["datastore.admin.password"]);
    expect(issues({ user: "k3s", password: new Secret("Alnum0123") })).toEqual(["datastore.admin.user"]);
    expect(issues({ user: "adm'in", password: new Secret("Alnum0123") })).toEqual(["datastore.admin.user"]);
    const waits = validateBootstrapInput({ ...input(0, 2), waits: { datastoreSeconds: 1.5 } });
    expect(waits.map((i) => i.path)).toEqual(["waits.datastoreSeconds"]);
  });
});

const script = (text: string) => fileAt(parseCloudConfig(text), BOOTSTRAP_SCRIPT_PATH)!.content;

describeWithTools(["shellcheck"])("shellcheck", () => {
  const readers = Object.entries(TEST_METADATA_READERS);
  it.each(allCases.flatMap((c) => readers.map(([provider, reader]) => ({ ...c, provider, reader }))))(
    "$mode, server $index of $count, admin $admin, $provider reader: the bootstrap script is clean",
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
  it.each(allCases.filter((c) => c.index < 2))(
    "$mode, server $index of $count, admin $admin: valid cloud-config",
    (c) => {
      requireTools(["cloud-init"]);
      const file = join(dir, `${c.mode}-${c.count}-${c.index}-${c.admin ? "admin" : "plain"}.yaml`);
      writeFileSync(file, render(c));
      const result = spawnSync("cloud-init", ["schema", "--config-file", file]);
      expect(result.stderr.toString()).toBe("");
      expect(result.status).toBe(0);
    },
  );

  it("rejects an invalid document (the check can fail)", () => {
    requireTools(["cloud-init"]);
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "#cloud-config\nwrite_files: {path: 3}\nruncmd: 5\n");
    expect(spawnSync("cloud-init", ["schema", "--config-file", file]).status).not.toBe(0);
  });
});
