/**
 * Issue 10 on the emulator: no secret value in any node's user data (read back with DescribeInstanceAttribute,
 * as anyone with that permission could), the values in SSM as SecureStrings, the nodes' identity limited to
 * their own cluster's parameters, and the admin password retired once server 0 stored its kubeconfig.
 */

import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { kubeconfig, MemoryStateStore, outputs, plan, status, TAG_CLUSTER, up } from "@k3sinfra/core";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { libraryConfig, libraryOptions } from "./library.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    timeScale: 0.001,
    seed: 5,
    iamPropagationMs: 0,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    log: () => undefined,
  });
});
afterAll(() => emulator?.stop());

const clients = async () => {
  const { EC2 } = await import("@aws-sdk/client-ec2");
  const { SSM } = await import("@aws-sdk/client-ssm");
  const { IAM } = await import("@aws-sdk/client-iam");
  const cfg = {
    region: "us-east-1",
    endpoint: emulator.endpoints.aws!,
    credentials: emulator.credentials.aws,
  };
  return { ec2: new EC2(cfg), ssm: new SSM(cfg), iam: new IAM(cfg) };
};

describe("secrets live in SSM, never in user data", () => {
  const name = "sec1";
  const state = new MemoryStateStore();
  const lib = () => libraryOptions(emulator.endpoints.aws!, emulator, state);

  beforeAll(async () => {
    await up(libraryConfig(name), lib().options);
  });

  it("no node's user data holds a secret value; it names the parameters instead", async () => {
    const { ec2 } = await clients();
    const secrets = (await state.read())!.secrets!;
    const values = Object.values(secrets);
    expect(values.length).toBe(4);
    const instances = emulator
      .inventory({ tags: { [TAG_CLUSTER]: name } })
      .filter((i) => i.type === "instance" && i.state !== "terminated");
    expect(instances).toHaveLength(2);
    for (const i of instances) {
      const attr = await ec2.describeInstanceAttribute({ InstanceId: i.id, Attribute: "userData" });
      const packed = Buffer.from(attr.UserData?.Value ?? "", "base64");
      const text = gunzipSync(packed).toString("utf8");
      expect(text.startsWith("#cloud-config")).toBe(true);
      for (const v of values) expect(text.includes(v), `a secret in ${i.id}'s user data`).toBe(false);
      expect(text).toContain(`/k3sinfra/${name}/k3s-token`);
      expect(text).toContain(`/k3sinfra/${name}/datastore-password`);
    }
  });

  it("stores each secret as a SecureString under the cluster's path, tagged as the cluster's", async () => {
    const { ssm } = await clients();
    const secrets = (await state.read())!.secrets!;
    const token = await ssm.getParameter({ Name: `/k3sinfra/${name}/k3s-token`, WithDecryption: true });
    expect(token.Parameter?.Type).toBe("SecureString");
    expect(token.Parameter?.Value).toBe(secrets.k3sToken);
    const k3sPw = await ssm.getParameter({
      Name: `/k3sinfra/${name}/datastore-password`,
      WithDecryption: true,
    });
    expect(k3sPw.Parameter?.Value).toBe(secrets.datastoreK3sPassword);
    const tags = await ssm.listTagsForResource({
      ResourceType: "Parameter",
      ResourceId: `/k3sinfra/${name}/k3s-token`,
    });
    expect(tags.TagList).toContainEqual({ Key: TAG_CLUSTER, Value: name });
    // An unchanged up writes no new version.
    await up(libraryConfig(name), lib().options);
    const again = await ssm.getParameter({ Name: `/k3sinfra/${name}/k3s-token` });
    expect(again.Parameter?.Version).toBe(token.Parameter?.Version);
  });

  it("the nodes' role may read its own cluster's parameters and write only the kubeconfig", async () => {
    const { iam, ec2 } = await clients();
    const policy = await iam.getRolePolicy({ RoleName: `k3s-${name}-node`, PolicyName: "k3sinfra-node" });
    const doc = JSON.parse(decodeURIComponent(policy.PolicyDocument ?? "{}")) as {
      Statement: { Action: string[]; Resource: string }[];
    };
    const reads = doc.Statement.find((s) => s.Action.includes("ssm:GetParameter"));
    expect(reads?.Resource).toBe(`arn:aws:ssm:us-east-1:123456789012:parameter/k3sinfra/${name}/*`);
    const writes = doc.Statement.find((s) => s.Action.includes("ssm:PutParameter"));
    expect(writes?.Resource).toBe(`arn:aws:ssm:us-east-1:123456789012:parameter/k3sinfra/${name}/kubeconfig`);
    expect(
      doc.Statement.every((s) => s.Resource !== "*" || !s.Action.some((a) => a.startsWith("ssm:Get"))),
    ).toBe(true);
    const attached = await iam.listAttachedRolePolicies({ RoleName: `k3s-${name}-node` });
    expect(attached.AttachedPolicies ?? []).toEqual([]);
    const node = (await state.read())!.resources["node-0"]!.state.id;
    const described = await ec2.describeInstances({ InstanceIds: [node] });
    expect(described.Reservations?.[0]?.Instances?.[0]?.IamInstanceProfile?.Arn).toContain(
      `k3s-${name}-node`,
    );
  });

  it("retires the admin password once server 0 stored its kubeconfig", async () => {
    const { ssm } = await clients();
    const admin = `/k3sinfra/${name}/datastore-admin-password`;
    expect((await ssm.getParameter({ Name: admin })).Parameter).toBeDefined();
    // What server 0 does once K3s serves (its datastore user exists by then).
    await ssm.putParameter({
      Name: `/k3sinfra/${name}/kubeconfig`,
      Value: "apiVersion: v1\nkind: Config\n",
      Type: "SecureString",
      Overwrite: true,
    });
    // The node writing its kubeconfig is expected, not drift; what it allows is a planned retirement.
    const report = await status(libraryConfig(name), lib().options);
    expect(report.resources.filter((r) => r.status !== "ok")).toEqual([]);
    const p = await plan(libraryConfig(name), lib().options);
    const change = p.changes.find((c) => c.resource === "secrets");
    expect(change?.action).toBe("update");
    expect(change?.reason).toContain("retire datastore-admin-password");
    await up(libraryConfig(name), lib().options);
    await expect(ssm.getParameter({ Name: admin })).rejects.toMatchObject({ name: "ParameterNotFound" });
    expect((await plan(libraryConfig(name), lib().options)).empty).toBe(true);
  });

  it("k3sinfra kubeconfig fetches what server 0 stored, points it at a reachable address, writes it 0600", async () => {
    const dir = await mkdtemp(join(tmpdir(), "k3sinfra-kc-"));
    const out = join(dir, "nested", "kube.yaml");
    // A kubeconfig as K3s writes it, stored as server 0 does.
    const { SSM } = await import("@aws-sdk/client-ssm");
    const ssm = new SSM({
      region: "us-east-1",
      endpoint: emulator.endpoints.aws!,
      credentials: emulator.credentials.aws,
    });
    await ssm.putParameter({
      Name: `/k3sinfra/${name}/kubeconfig`,
      Type: "SecureString",
      Overwrite: true,
      Value: [
        "apiVersion: v1",
        "clusters:",
        "- cluster:",
        "    certificate-authority-data: Q0E=",
        "    server: https://127.0.0.1:6443",
        "  name: default",
        "contexts:",
        "- context: {cluster: default, user: default}",
        "  name: default",
        "current-context: default",
        "kind: Config",
        "users:",
        "- name: default",
        "  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}",
        "",
      ].join("\n"),
    });
    // Closed API (no adminCidrs): 127.0.0.1 through a Session Manager tunnel to server 0.
    const closed = await kubeconfig(libraryConfig(name), { ...lib().options, output: out });
    expect(closed.via).toBe("tunnel");
    expect(closed.server).toBe("https://127.0.0.1:6443");
    const node0 = (await state.read())!.resources["node-0"]!.state.id;
    expect(closed.commands.join("\n")).toContain(
      `aws ssm start-session --region us-east-1 --target ${node0}`,
    );
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "nested"))).mode & 0o777).toBe(0o700);
    const opened = { ...libraryConfig(name), nodes: { adminCidrs: ["203.0.113.0/24"] } };
    // What up applied decides the route: apply the admin range first.
    await up(opened, lib().options);
    const pub = await kubeconfig(opened, { ...lib().options, output: out });
    expect(pub.via).toBe("public");
    const written = await readFile(out, "utf8");
    expect(written).toContain(`server: ${pub.server}`);
    expect(written).toContain(`tls-server-name: rancher.${name}.example.com`);
    expect(written).toContain("client-key-data: S0VZ");
    // outputs point at the command, not at SSH.
    const o = await outputs(opened, lib().options);
    expect(o.rancher.kubeconfigCommands.join("\n")).toContain("k3sinfra kubeconfig");
    expect(o.rancher.kubeconfigCommands.join("\n")).not.toContain("ssh ");
  });
});
