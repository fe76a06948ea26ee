/**
 * The emulator standing in for K3s on server 0 (`simulateBoot`, `bootNodes()`): it stores a kubeconfig where the
 * instance's boot script names it, once the instance has run long enough, authorized as the instance's role.
 */
import { gzipSync } from "node:zlib";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { IAM } from "@aws-sdk/client-iam";
import { SSM } from "@aws-sdk/client-ssm";
import { type Emulator, type EmulatorOptions, startEmulator } from "@k3sinfra/emulator";
import { afterEach, describe, expect, it } from "vitest";

const IMAGE =
  "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";
const PARAM = "/k3sinfra/sim/kubeconfig";
const arn = (name: string) => `arn:aws:ssm:us-east-1:123456789012:parameter${name}`;

/** What a k3sinfra server 0's user data holds around the line the emulator looks for (names only). */
const userData = (name = PARAM) =>
  gzipSync(
    `#cloud-config\nwrite_files:\n  - path: /usr/local/sbin/k3sinfra-bootstrap\n    content: |\n      #!/bin/sh\n      KUBECONFIG_SECRET='${name}'\n      KUBECONFIG_FILE=/etc/rancher/k3s/k3s.yaml\n`,
  ).toString("base64");

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

async function setup(options: EmulatorOptions, policy: object[]) {
  let now = Date.parse("2026-03-01T12:00:00Z");
  const lines: string[] = [];
  emulator = await startEmulator({
    timeScale: 0.001,
    seed: 3,
    iamPropagationMs: 0,
    clock: () => now,
    log: (l) => lines.push(l),
    ...options,
  });
  const cfg = {
    region: "us-east-1",
    endpoint: emulator.endpoints.aws!,
    credentials: emulator.credentials.aws,
    maxAttempts: 1,
  };
  const iam = new IAM(cfg);
  const ssm = new SSM(cfg);
  await iam.createRole({
    RoleName: "sim-node",
    AssumeRolePolicyDocument: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    }),
  });
  await iam.putRolePolicy({
    RoleName: "sim-node",
    PolicyName: "node",
    PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: policy }),
  });
  await iam.createInstanceProfile({ InstanceProfileName: "sim-node" });
  await iam.addRoleToInstanceProfile({ InstanceProfileName: "sim-node", RoleName: "sim-node" });
  const launch = async (data: string | undefined, profile = true) =>
    (
      await new EC2Client(cfg).send(
        new RunInstancesCommand({
          ImageId: IMAGE,
          InstanceType: "m6i.xlarge",
          MinCount: 1,
          MaxCount: 1,
          ...(data ? { UserData: data } : {}),
          ...(profile ? { IamInstanceProfile: { Name: "sim-node" } } : {}),
        }),
      )
    ).Instances![0]!.InstanceId!;
  const advance = (ms: number) => {
    now += ms;
  };
  const kubeconfig = () =>
    ssm.getParameter({ Name: PARAM, WithDecryption: true }).then(
      (r) => r.Parameter,
      (e: { name: string }) => e.name,
    );
  return { emu: emulator, ssm, launch, advance, kubeconfig, lines };
}

const WRITE = [{ Effect: "Allow", Action: "ssm:PutParameter", Resource: arn(PARAM) }];

describe("simulateBoot", () => {
  it("stores a K3s kubeconfig as SecureString once the instance ran kubeconfigAfterMs × timeScale, once", async () => {
    const t = await setup({ simulateBoot: { kubeconfigAfterMs: 90_000 } }, WRITE);
    const id = await t.launch(userData());
    // pending 30 ms, then K3s takes 90 ms (time scale 0.001): not yet.
    t.advance(100);
    expect(await t.kubeconfig()).toBe("ParameterNotFound");
    t.advance(20);
    const p = await t.kubeconfig();
    expect(p).toMatchObject({ Name: PARAM, Type: "SecureString", Version: 1 });
    const text = (p as { Value: string }).Value;
    expect(text).toMatch(
      /^apiVersion: v1\nclusters:\n- cluster:\n {4}certificate-authority-data: [A-Za-z0-9+/=]+\n/,
    );
    expect(text).toContain("    server: https://127.0.0.1:6443\n  name: default\n");
    expect(text).toContain("current-context: default\nkind: Config\n");
    expect(text).toContain("users:\n- name: default\n  user:\n");
    const field = (k: string) =>
      Buffer.from(new RegExp(`${k}: (\\S+)`).exec(text)![1]!, "base64").toString("utf8");
    expect(field("certificate-authority-data")).toMatch(
      /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/,
    );
    expect(field("client-certificate-data")).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(field("client-key-data")).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(text.length).toBeLessThan(4096);
    // Not in clear where the parameter is sealed, and written once: later calls add no version.
    expect((await t.ssm.getParameter({ Name: PARAM })).Parameter?.Value).not.toContain("apiVersion");
    t.advance(10_000);
    expect(await t.kubeconfig()).toMatchObject({ Version: 1 });
    expect(t.emu.bootNodes()).toEqual([]);
    expect(t.lines).toContain(`boot simulation: ${id} (server 0) stored its kubeconfig as ${PARAM}`);
  });

  it("is refused like the node's own call when the role may not write there, and retried until it may", async () => {
    const t = await setup({ simulateBoot: { kubeconfigAfterMs: 90_000 } }, [
      { Effect: "Allow", Action: "ssm:GetParameter", Resource: arn(PARAM) },
    ]);
    const id = await t.launch(userData());
    t.advance(200);
    expect(await t.kubeconfig()).toBe("ParameterNotFound");
    const [report] = t.emu.bootNodes();
    expect(report).toMatchObject({ instanceId: id, parameter: PARAM, outcome: "refused" });
    expect(report?.error).toBe(
      `AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/sim-node/${id} is not authorized to perform: ssm:PutParameter on resource: ${arn(PARAM)} because no identity-based policy allows the ssm:PutParameter action`,
    );
    // The policy fixed while the script still retries: stored.
    await new IAM({
      region: "us-east-1",
      endpoint: t.emu.endpoints.aws!,
      credentials: t.emu.credentials.aws,
    }).putRolePolicy({
      RoleName: "sim-node",
      PolicyName: "node",
      PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: WRITE }),
    });
    expect(await t.kubeconfig()).toMatchObject({ Version: 1 });
  });

  it("gives up after the script's retry window (600 s × timeScale), as the script does", async () => {
    const t = await setup({ simulateBoot: { kubeconfigAfterMs: 90_000 } }, [
      { Effect: "Deny", Action: "ssm:PutParameter", Resource: arn(PARAM) },
    ]);
    const id = await t.launch(userData());
    t.advance(120 + 600);
    expect(t.emu.bootNodes()).toMatchObject([{ instanceId: id, outcome: "gave-up" }]);
    expect(t.emu.bootNodes()).toEqual([]);
  });

  it("without the option, only bootNodes() writes; instances that are not a k3sinfra server 0 are left alone", async () => {
    const t = await setup({}, WRITE);
    await t.launch(undefined);
    await t.launch(Buffer.from("#cloud-config\n").toString("base64"));
    const id = await t.launch(userData());
    t.advance(1_000_000);
    expect(await t.kubeconfig()).toBe("ParameterNotFound");
    expect(t.emu.bootNodes()).toEqual([{ instanceId: id, parameter: PARAM, outcome: "stored" }]);
    expect(await t.kubeconfig()).toMatchObject({ Version: 1 });
  });

  it("an instance without a role cannot write (no credentials on it)", async () => {
    const t = await setup({}, WRITE);
    const id = await t.launch(userData(), false);
    t.advance(100);
    expect(t.emu.bootNodes()).toEqual([
      {
        instanceId: id,
        parameter: PARAM,
        outcome: "refused",
        error: "NoCredentials: the instance has no instance profile with a role",
      },
    ]);
  });
});
