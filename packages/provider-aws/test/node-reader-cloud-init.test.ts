import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  BOOTSTRAP_SCRIPT_PATH,
  type BootstrapInput,
  type InlineSecretsInput,
  renderCloudInit,
  Secret,
  validateBootstrapInput,
} from "@k3sinfra/core";
import { expect, it } from "vitest";
import { AWS_METADATA_READER } from "../src/metadata-reader.js";
import { awsSecretReader, SSM_CLIENT_PATH, SSM_CLIENT_PROGRAM } from "../src/node-reader/index.js";
import { awsRdsCaUrl } from "../src/rds-ca.js";
import { describeWith } from "./node-reader-run.js";

const TOKEN = "K3sTokenSecretValue0123456789abcdef";
const DB_PASSWORD = "DbPasswordSecretValue0123456789AB";

/** Server `index` of 3, L7, with the datastore admin on server 0 and the AWS secret reader. */
const input = (index: number, over: Partial<InlineSecretsInput> = {}): InlineSecretsInput => ({
  index,
  count: 3,
  k3sVersion: "v1.33.12+k3s1",
  token: new Secret(TOKEN),
  datastore: {
    user: "k3s",
    password: new Secret(DB_PASSWORD),
    database: "k3s",
    tls: { caUrl: awsRdsCaUrl("us-east-1") },
    ...(index === 0 ? { admin: { user: "k3sadmin", password: new Secret("AdminPassword0123456789") } } : {}),
  },
  hostname: "rancher.example.com",
  loadBalancer: { mode: "l7", sourceCidrs: ["10.0.0.0/16"] },
  metadataReader: AWS_METADATA_READER,
  secretReader: awsSecretReader,
  ...over,
});

interface WriteFile {
  path: string;
  owner: string;
  permissions: string;
  content: string;
}

/** cloud-init's own interpreter (its shebang): it has the YAML parser cloud-init reads user data with. */
const cloudInitPython = (): string => {
  const bin = spawnSync("sh", ["-c", "command -v cloud-init"]).stdout.toString().trim();
  return /^#!\s*(\S+)/.exec(readFileSync(bin, "utf8"))?.[1] ?? "python3";
};

/** The user data as cloud-init parses it (PyYAML `safe_load`, as cloud-init does). */
const parse = (text: string): { write_files: WriteFile[]; runcmd: unknown } => {
  const program = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)";
  const r = spawnSync(cloudInitPython(), ["-c", program], { input: text });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return JSON.parse(r.stdout.toString());
};

it("validates the reader: absolute new paths, octal modes, functions present", () => {
  expect(validateBootstrapInput(input(1))).toEqual([]);
  const bad = (secretReader: BootstrapInput["secretReader"]) =>
    validateBootstrapInput(input(1, { secretReader })).map((i) => i.path);
  const file = awsSecretReader.files[0]!;
  expect(bad({ files: [{ ...file, path: "relative/ssm.py" }], functions: "f() { :; }" })).toEqual([
    "secretReader.files",
  ]);
  expect(bad({ files: [{ ...file, path: BOOTSTRAP_SCRIPT_PATH }], functions: "f() { :; }" })).toEqual([
    "secretReader.files",
  ]);
  expect(bad({ files: [{ ...file, permissions: "700" }], functions: "f() { :; }" })).toEqual([
    "secretReader.files",
  ]);
  expect(bad({ files: [], functions: " \n" })).toEqual(["secretReader.functions"]);
});

it("without a reader the user data is unchanged (no node is replaced by this hook)", () => {
  const without = renderCloudInit(input(1, { secretReader: undefined }));
  expect(without).not.toContain("k3sinfra_secret");
  expect(without).not.toContain(SSM_CLIENT_PATH);
  expect(renderCloudInit(input(1))).not.toBe(without);
});

it("fits EC2's 16 KB once gzip-compressed, which cloud-init accepts as user data", () => {
  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html (16 KB, raw);
  // https://cloudinit.readthedocs.io/en/latest/explanation/format.html (gzip-compressed user data).
  // The largest case of core's size test: L7, 3 subnets, admin, CA by URL, long names, generated secrets.
  const secret = (n: number) => new Secret("x".repeat(n));
  const sizes = [0, 1].map((index) => {
    const base = input(index, { token: secret(48), hostname: `rancher.${"a".repeat(40)}.example.com` });
    const text = renderCloudInit({
      ...base,
      loadBalancer: { mode: "l7", sourceCidrs: ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"] },
      datastore: {
        ...base.datastore,
        user: "k3s_user_sixteen",
        password: secret(32),
        database: "k3s_database",
        tls: { caUrl: awsRdsCaUrl("ap-southeast-3") },
        ...(index === 0 ? { admin: { user: "k3sadmin_sixteen", password: secret(32) } } : {}),
      },
    });
    return { raw: Buffer.byteLength(text), gzip: gzipSync(text, { level: 9 }).length };
  });
  for (const s of sizes) expect(s.gzip).toBeLessThan(16 * 1024);
  console.info(`user data with the AWS secret reader (server 0, 1): ${JSON.stringify(sizes)}`);
});

describeWith(["cloud-init", "shellcheck"])("the AWS secret reader in the user data", () => {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-reader-ci-"));
  it.each([0, 1])("server %i: a valid cloud-config with the 0700 program and a clean script", (index) => {
    const text = renderCloudInit(input(index));
    const file = join(dir, `server-${index}.yaml`);
    writeFileSync(file, text);
    const schema = spawnSync("cloud-init", ["schema", "--config-file", file]);
    expect(schema.stderr.toString()).toBe("");
    expect(schema.status).toBe(0);

    const doc = parse(text);
    const paths = doc.write_files.map((f) => f.path);
    // Written before the script that calls it (cloud-init writes in order; runcmd runs after).
    expect(paths.indexOf(SSM_CLIENT_PATH)).toBeGreaterThanOrEqual(0);
    expect(paths.indexOf(SSM_CLIENT_PATH)).toBeLessThan(paths.indexOf(BOOTSTRAP_SCRIPT_PATH));
    const program = doc.write_files.find((f) => f.path === SSM_CLIENT_PATH)!;
    expect(program).toMatchObject({ owner: "root:root", permissions: "0700" });
    expect(program.content).toBe(SSM_CLIENT_PROGRAM);
    const compiled = spawnSync(
      cloudInitPython(),
      ["-c", "import sys; compile(sys.stdin.read(), 'ssm.py', 'exec')"],
      {
        input: program.content,
      },
    );
    expect(compiled.stderr.toString()).toBe("");

    const script = doc.write_files.find((f) => f.path === BOOTSTRAP_SCRIPT_PATH)!.content;
    expect(script).toContain(awsSecretReader.functions);
    expect(script).toMatch(
      /^k3sinfra_secret\(\) \{ python3 -I \/usr\/local\/lib\/k3sinfra\/ssm\.py get "\$1"; \}$/m,
    );
    const check = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script });
    expect(check.stdout.toString() + check.stderr.toString()).toBe("");
    expect(check.status).toBe(0);
  });

  it("the script check can fail: a reader function with an unquoted argument is flagged", () => {
    const broken = { ...awsSecretReader, functions: "k3sinfra_secret() { python3 -I /x get $1; }" };
    const doc = parse(renderCloudInit(input(1, { secretReader: broken })));
    const script = doc.write_files.find((f) => f.path === BOOTSTRAP_SCRIPT_PATH)!.content;
    expect(spawnSync("shellcheck", ["-s", "sh", "-"], { input: script }).status).not.toBe(0);
  });
});
