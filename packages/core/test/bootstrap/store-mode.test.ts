import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  BOOTSTRAP_SCRIPT_PATH,
  type BootstrapInput,
  CONFIG_TEMPLATE_PATH,
  DATASTORE_PREP_PATHS,
  RANCHER_MANIFEST_TEMPLATE_PATH,
  renderCloudInit,
  SECRET_PLACEHOLDERS,
  validateBootstrapInput,
} from "../../src/bootstrap/index.js";
import { renderUserData } from "../../src/orchestrator/user-data.js";
import { Secret } from "../../src/secret.js";
import { memoryConfig, validConfig } from "../helpers.js";
import {
  ADMIN_PASSWORD,
  DB_PASSWORD,
  fileAt,
  L7,
  parseCloudConfig,
  TEST_METADATA_READER,
  TEST_METADATA_READERS,
  TOKEN,
  withAdmin,
} from "./fixtures.js";
import {
  FAKE_READER_PATH,
  FAKE_SECRET_READER,
  NAMES,
  RANCHER_PASSWORD,
  storeInput,
} from "./store-fixtures.js";
import { describeWithTools, requireTools } from "./tools.js";

const SECRETS = [TOKEN, DB_PASSWORD, ADMIN_PASSWORD, RANCHER_PASSWORD];
const LB = { l4: { mode: "l4", addresses: ["203.0.113.10"] } as const, l7: L7 };
const cases = (["l4", "l7"] as const).flatMap((mode) => [0, 1, 2].map((index) => ({ mode, index })));
// Server 0 installs Rancher (its manifest holds a placeholder for the bootstrap password).
const RANCHER = { version: "2.12.3", replicas: 3, certManagerVersion: "v1.18.2" } as const;
const render = (c: { mode: "l4" | "l7"; index: number }) =>
  renderCloudInit(storeInput(c.index, 3, { loadBalancer: LB[c.mode], rancher: RANCHER }));

/** Every string in the parsed document, so an encoding of the YAML (quoting, folding) cannot hide a value. */
const strings = (v: unknown): string[] =>
  typeof v === "string"
    ? [v]
    : Array.isArray(v)
      ? v.flatMap(strings)
      : v && typeof v === "object"
        ? Object.values(v).flatMap(strings)
        : [];

const clusterSecrets = {
  k3sToken: TOKEN,
  datastorePassword: ADMIN_PASSWORD,
  datastoreK3sPassword: DB_PASSWORD,
  rancherBootstrapPassword: RANCHER_PASSWORD,
};

describe("store mode: the user data", () => {
  it.each(cases)("$mode, server $index: holds no secret value, only names and placeholders", (c) => {
    const text = render(c);
    const doc = parseCloudConfig(text);
    for (const secret of SECRETS) {
      expect(text).not.toContain(secret);
      for (const s of strings(doc)) expect(s).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret).toString("base64").slice(0, 24));
    }
    for (const path of Object.values(DATASTORE_PREP_PATHS)) expect(fileAt(doc, path)).toBeUndefined();
    const template = fileAt(doc, CONFIG_TEMPLATE_PATH)!.content;
    expect(template).toContain(`token: "${SECRET_PLACEHOLDERS.token}"`);
    expect(template).toContain(`mysql://k3s:${SECRET_PLACEHOLDERS.datastorePassword}@tcp(`);
    expect(fileAt(doc, FAKE_READER_PATH)!.permissions).toBe("0700");
    const script = fileAt(doc, BOOTSTRAP_SCRIPT_PATH)!.content;
    expect(script).toContain(`TOKEN_SECRET='${NAMES.k3sToken}'`);
    expect(script).toContain('k3sinfra_secret() { sh /usr/local/lib/k3sinfra/secret-store.sh get "$1"; }');
    expect(script.includes(NAMES.kubeconfig)).toBe(c.index === 0);
    expect(script.includes(NAMES.datastoreAdminPassword)).toBe(c.index === 0);
    expect(script.includes(`RANCHER_PASSWORD_SECRET='${NAMES.rancherBootstrapPassword}'`)).toBe(
      c.index === 0,
    );
  });

  it("renderUserData with a secret store passes no value, even when the cluster secrets are at hand", () => {
    const config = validConfig(memoryConfig());
    for (const index of [0, 1]) {
      const base = {
        config,
        index,
        k3sVersion: "v1.33.12+k3s1",
        provider: { name: "aws", metadataReader: TEST_METADATA_READER },
        network: undefined,
      };
      const stored = renderUserData({
        ...base,
        secrets: clusterSecrets,
        secretStore: { names: NAMES, reader: FAKE_SECRET_READER },
      });
      for (const secret of SECRETS) expect(stored).not.toContain(secret);
      // Server 0 installs Rancher (rancher.install defaults to true), reading its password at boot.
      const manifest = fileAt(parseCloudConfig(stored), RANCHER_MANIFEST_TEMPLATE_PATH);
      expect(manifest?.content.includes(SECRET_PLACEHOLDERS.rancherBootstrapPassword) ?? false).toBe(
        index === 0,
      );
      expect(stored).toBe(
        renderUserData({ ...base, secretStore: { names: NAMES, reader: FAKE_SECRET_READER } }),
      );
      expect(stored.includes(`ADMIN_SECRET='${NAMES.datastoreAdminPassword}'`)).toBe(index === 0);
      // The inline mode (a provider without a secret store) still carries them.
      expect(renderUserData({ ...base, secrets: clusterSecrets })).toContain(TOKEN);
      expect(() => renderUserData(base)).toThrow(/cluster secrets are required/);
    }
  });

  it("the inline mode carries none of the store mode (its user data, hence its servers, are unchanged)", () => {
    for (const index of [0, 1]) {
      const script = fileAt(
        parseCloudConfig(renderCloudInit(withAdmin(index, 3))),
        BOOTSTRAP_SCRIPT_PATH,
      )!.content;
      expect(script).not.toMatch(
        /admin_files|fill_secrets|k3sinfra_secret|SECRET_|@K3SINFRA_(TOKEN|DATASTORE_P)/,
      );
    }
  });

  it("servers after the first do not change with the admin, kubeconfig or Rancher names, nor Rancher (no replacement)", () => {
    const { datastoreAdminPassword: _a, kubeconfig: _k, rancherBootstrapPassword: _r, ...names } = NAMES;
    for (const index of [1, 2]) {
      const full = storeInput(index, 3, { rancher: RANCHER });
      const bare = storeInput(index, 3, {
        secretNames: names,
        datastore: { ...full.datastore, admin: undefined },
      });
      expect(renderCloudInit(full)).toBe(renderCloudInit(bare));
    }
    expect(renderCloudInit(storeInput(0, 3))).not.toBe(
      renderCloudInit(storeInput(0, 3, { secretNames: { ...NAMES, kubeconfig: undefined } })),
    );
  });

  it("fits EC2's 16 KB once gzipped (cloud-init accepts gzip user data): server 0, L7, an 8 KB reader", () => {
    // The reader's program is about 8 KB on AWS, which alone takes the plain text of server 0 over 16 KB
    // (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html); the provider sends it gzipped.
    const program = Array.from({ length: 256 }, (_, i) => `def step_${i}(x): return x + ${i}\n`).join("");
    const reader = {
      ...FAKE_SECRET_READER,
      files: [{ path: FAKE_READER_PATH, permissions: "0700", content: program.slice(0, 8 * 1024) }],
    };
    const text = renderCloudInit(storeInput(0, 3, { loadBalancer: L7, secretReader: reader }));
    expect(Buffer.byteLength(text)).toBeGreaterThan(16 * 1024);
    expect(gzipSync(text, { level: 9 }).length).toBeLessThan(16 * 1024);
    const bare = renderCloudInit(storeInput(1, 3, { loadBalancer: L7 }));
    console.info(`store-mode user data bytes: server 0 ${Buffer.byteLength(text)}, server 1 ${bare.length}`);
  });
});

describe("store mode: validation", () => {
  const paths = (input: BootstrapInput) => validateBootstrapInput(input).map((i) => i.path);

  it("accepts the fixture", () => {
    expect(paths(storeInput(0, 2))).toEqual([]);
  });

  it("refuses names a shell would read, a missing reader or function, an admin without its name", () => {
    expect(paths(storeInput(0, 2, { secretNames: { ...NAMES, k3sToken: "/a/b'$(reboot)" } }))).toEqual([
      "secretNames.k3sToken",
    ]);
    expect(paths(storeInput(0, 2, { secretReader: undefined }))).toEqual(["secretReader"]);
    const noPut = { ...FAKE_SECRET_READER, functions: 'k3sinfra_secret() { echo "$1"; }' };
    expect(paths(storeInput(0, 2, { secretReader: noPut }))).toEqual(["secretReader.functions"]);
    const { datastoreAdminPassword: _a, ...names } = NAMES;
    expect(paths(storeInput(0, 2, { secretNames: names }))).toEqual(["secretNames.datastoreAdminPassword"]);
    const noAdmin = storeInput(0, 2);
    expect(paths({ ...noAdmin, datastore: { ...noAdmin.datastore, admin: undefined } })).toEqual([
      "datastore.admin",
    ]);
  });

  it("refuses a secret value given with names (an untyped caller), without printing it", () => {
    const loose = {
      ...storeInput(0, 2),
      token: new Secret(TOKEN),
      datastore: { ...storeInput(0, 2).datastore, password: new Secret(DB_PASSWORD) },
    } as unknown as BootstrapInput;
    expect(paths(loose)).toEqual(["k3s.token", "datastore.password"]);
    expect(() => renderCloudInit(loose)).toThrow(/must not be given with secretNames/);
    try {
      renderCloudInit(loose);
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(TOKEN);
    }
  });
});

const scriptOf = (text: string) => fileAt(parseCloudConfig(text), BOOTSTRAP_SCRIPT_PATH)!.content;

describeWithTools(["shellcheck"])("store mode: shellcheck", () => {
  it.each(
    cases.flatMap((c) =>
      Object.entries(TEST_METADATA_READERS).map(([provider, reader]) => ({ ...c, provider, reader })),
    ),
  )(
    "$mode, server $index, $provider metadata reader: the bootstrap script is clean",
    ({ mode, index, reader }) => {
      requireTools(["shellcheck"]);
      const text = renderCloudInit(storeInput(index, 3, { loadBalancer: LB[mode], metadataReader: reader }));
      const result = spawnSync("shellcheck", ["-s", "sh", "-"], { input: scriptOf(text) });
      expect(result.stdout.toString() + result.stderr.toString()).toBe("");
      expect(result.status).toBe(0);
    },
  );
});

describeWithTools(["cloud-init"])("store mode: cloud-init schema", () => {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-ci-store-"));
  it.each(cases.filter((c) => c.index < 2))("$mode, server $index: valid cloud-config", (c) => {
    requireTools(["cloud-init"]);
    const file = join(dir, `${c.mode}-${c.index}.yaml`);
    writeFileSync(file, render(c));
    const result = spawnSync("cloud-init", ["schema", "--config-file", file]);
    expect(result.stderr.toString()).toBe("");
    expect(result.status).toBe(0);
  });
});
