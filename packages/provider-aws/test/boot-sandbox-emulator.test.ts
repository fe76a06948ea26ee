/**
 * Issue 10, end to end on the node side: `up` on the emulator, then each server's real user data (read back
 * with DescribeInstanceAttribute, gunzipped) runs in core's bootstrap sandbox with the AWS reader as shipped
 * — python3 real, its IMDSv2 and SSM calls answered by the emulator as that instance (role credentials,
 * SigV4 verified, the role's policy enforced), the published metadata read from the emulated IMDS instance
 * tags. K3s, its installer and the datastore client stay faked (sandbox.ts).
 */
import { spawnSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
import { EC2 } from "@aws-sdk/client-ec2";
import { IAM } from "@aws-sdk/client-iam";
import { SSM } from "@aws-sdk/client-ssm";
import { K3S_CONFIG_PATH, MemoryStateStore, outputs, up } from "@k3sinfra/core";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, expect, it } from "vitest";
import { removeSandboxes, runBootstrapAsync, type SandboxResult } from "../../core/test/bootstrap/sandbox.js";
import { FAKE_KUBECONFIG } from "../../core/test/bootstrap/store-fixtures.js";
import { libraryConfig, libraryOptions } from "./library.js";
import { describeWith } from "./node-reader-run.js";

const NAME = "boot1";
const SANDBOX_NODE_IP = "10.0.1.23"; // what the sandbox's fake `ip` answers
const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfakeRdsRegionalBundle\n-----END CERTIFICATE-----\n";
const KUBECONFIG = `/k3sinfra/${NAME}/kubeconfig`;

/** The interpreter itself (a pyenv shim would need the host's PATH, which the sandbox does not have). */
const python3 = (): string =>
  spawnSync("python3", ["-c", "import sys; print(sys.executable)"]).stdout.toString().trim();

describeWith(["python3", "curl"])("server 0 and server 1 boot with secrets from the emulated SSM", () => {
  let emulator: Emulator;
  const state = new MemoryStateStore();
  let ec2: EC2;
  let ssm: SSM;
  let iam: IAM;
  let secrets: {
    k3sToken: string;
    datastorePassword: string;
    datastoreK3sPassword: string;
    rancherBootstrapPassword: string;
  };
  let nodes: { id: string; privateIp: string }[];
  let configs: string[];

  beforeAll(async () => {
    emulator = await startEmulator({
      timeScale: 0.001,
      seed: 11,
      iamPropagationMs: 0,
      fixtures: { aws: { hostedZones: ["example.com"] } },
      log: () => undefined,
    });
    const cfg = {
      region: "us-east-1",
      endpoint: emulator.endpoints.aws!,
      credentials: emulator.credentials.aws,
    };
    [ec2, ssm, iam] = [new EC2(cfg), new SSM(cfg), new IAM(cfg)];
    const lib = libraryOptions(emulator.endpoints.aws!, emulator, state);
    await up(libraryConfig(NAME), lib.options);
    const recorded = (await state.read())!;
    secrets = recorded.secrets as typeof secrets;
    nodes = [0, 1].map((i) => recorded.resources[`node-${i}`]!.state as { id: string; privateIp: string });
    const shown = await outputs(libraryConfig(NAME), { ...lib.options, showSecrets: true });
    configs = shown.k3s.servers.map((s) => s.configYaml);
  });
  afterAll(async () => {
    removeSandboxes();
    await emulator?.stop();
  });

  /** The user data the instance boots with, as cloud-init reads it. */
  const userData = async (id: string): Promise<string> => {
    const attr = await ec2.describeInstanceAttribute({ InstanceId: id, Attribute: "userData" });
    return gunzipSync(Buffer.from(attr.UserData?.Value ?? "", "base64")).toString("utf8");
  };

  /** Runs instance `index`'s boot script as that instance. */
  const boot = async (index: number): Promise<SandboxResult> => {
    const node = nodes[index]!;
    const text = await userData(node.id);
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    const imds = emulator.imdsEndpoint(node.id);
    return runBootstrapAsync(text, {
      imds,
      hostTools: { python3: python3() },
      env: {
        K3SINFRA_IMDS_ENDPOINT: imds,
        K3SINFRA_SSM_ENDPOINT: emulator.endpoints.aws!,
        K3SINFRA_SSM_RETRY_DELAY: "0.01",
      },
      caPem: CA_PEM,
      firstServerUpAfterSleeps: 1,
      // What RDS holds for a new instance: the master user only (server 0 creates the K3s user and database).
      datastore: { admin: { user: "k3sadmin", password: secrets.datastorePassword } },
    });
  };

  const values = () => [
    secrets.k3sToken,
    secrets.datastorePassword,
    secrets.datastoreK3sPassword,
    secrets.rancherBootstrapPassword,
  ];
  const expectNoValueLogged = (run: SandboxResult) => {
    for (const line of [...run.log, ...run.tools, ...run.env, ...run.stderr.split("\n")])
      for (const v of values()) expect(line).not.toContain(v);
  };
  const k3sStarts = (run: SandboxResult) => run.log.filter((l) => /^systemctl (re)?start .*k3s$/.test(l));
  /** What `outputs` says the node's config is, with the IP the sandbox's node has. */
  const expectedConfig = (index: number) =>
    configs[index]!.replace(`node-ip: "${nodes[index]!.privateIp}"`, `node-ip: "${SANDBOX_NODE_IP}"`);

  it("server 0: reads the token and passwords through the reader, prepares the datastore, stores its kubeconfig", async () => {
    await expect(ssm.getParameter({ Name: KUBECONFIG })).rejects.toMatchObject({ name: "ParameterNotFound" });
    const run = await boot(0);
    expect(run.status, run.stderr).toBe(0);
    // The reader ran for real: python3 with the shipped program, against the emulator as the instance.
    expect(run.tools.some((t) => /^python3 -I \S+\/usr\/local\/lib\/k3sinfra\/ssm\.py get /.test(t))).toBe(
      true,
    );
    const roleCalls = emulator
      .requestLog()
      .filter((e) => e.service === "imds" && e.operation === "GetCredentials");
    expect(roleCalls.length).toBeGreaterThan(0);
    // The published datastore host came from the emulated IMDS instance tags.
    const host = (await state.read())!.resources.datastore!.state as unknown as { host: string };
    expect(run.stderr).toContain(`datastore at ${host.host}:`);

    expect(run.mode(K3S_CONFIG_PATH)).toBe(0o600);
    const config = run.read(K3S_CONFIG_PATH)!;
    expect(config).toBe(expectedConfig(0));
    expect(config).toContain(`token: "${secrets.k3sToken}"`);
    expect(config).toContain(`mysql://k3s:${secrets.datastoreK3sPassword}@tcp(${host.host}:3306)/k3s`);
    // The admin password (read because the K3s user did not exist yet) created the K3s user.
    expect(run.datastore().users).toEqual({ k3s: secrets.datastoreK3sPassword });
    expect(k3sStarts(run)).toHaveLength(1);

    const stored = await ssm.getParameter({ Name: KUBECONFIG, WithDecryption: true });
    expect(stored.Parameter).toMatchObject({ Type: "SecureString", Version: 1, Value: FAKE_KUBECONFIG });
    expect(run.stderr).toContain(`stage=kubeconfig ok: stored as secret ${KUBECONFIG}`);
    expectNoValueLogged(run);
  });

  it("server 1: waits for the first server it finds in the instance tags, reads the same secrets, stores nothing", async () => {
    const run = await boot(1);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      `stage=k3s-install waiting: the first server at https://${nodes[0]!.privateIp}:6443/ping`,
    );
    expect(run.mode(K3S_CONFIG_PATH)).toBe(0o600);
    expect(run.read(K3S_CONFIG_PATH)).toBe(expectedConfig(1));
    expect(run.sql).toBe("");
    expect(k3sStarts(run)).toHaveLength(1);
    expect(run.tools.some((t) => t.includes("ssm.py put"))).toBe(false);
    expect((await ssm.getParameter({ Name: KUBECONFIG })).Parameter?.Version).toBe(1);
    expectNoValueLogged(run);
  });

  it("a node whose role may not read the token fails naming AccessDeniedException, printing no value", async () => {
    const role = `k3s-${NAME}-node`;
    await iam.putRolePolicy({
      RoleName: role,
      PolicyName: "deny-token",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Deny",
            Action: "ssm:GetParameter",
            Resource: `arn:aws:ssm:us-east-1:123456789012:parameter/k3sinfra/${NAME}/k3s-token`,
          },
        ],
      }),
    });
    try {
      const run = await boot(1);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`GetParameter /k3sinfra/${NAME}/k3s-token: AccessDeniedException`);
      expect(run.stderr).toContain("with an explicit deny in an identity-based policy");
      expect(run.stderr).toContain(`could not read secret /k3sinfra/${NAME}/k3s-token within`);
      expect(run.exists(K3S_CONFIG_PATH)).toBe(false);
      expect(k3sStarts(run)).toEqual([]);
      expectNoValueLogged(run);
    } finally {
      await iam.deleteRolePolicy({ RoleName: role, PolicyName: "deny-token" });
    }
  });
});
