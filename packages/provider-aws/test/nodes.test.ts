import type { EC2 } from "@aws-sdk/client-ec2";
import { NetworkService, type NetworkState, NodeService, type NodeSpec, resourceTags } from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsClients } from "../src/index.js";
import { type Harness, networkSpec, startHarness, ZONES } from "./helpers.js";

let h: Harness;
let network: NetworkState;
beforeAll(async () => {
  h = await startHarness({}, "nods");
  network = await h.container().resolve(NetworkService).create(networkSpec("l4"), h.ctx("network"));
});
afterAll(() => h?.stop());

const USER_DATA =
  "#cloud-config\nwrite_files:\n- path: /etc/rancher/k3s/config.yaml\n  content: 'token: s3cr3t-token'\n";
const spec = (over: Partial<NodeSpec> = {}): NodeSpec => ({
  index: 0,
  zone: ZONES[0],
  size: { vcpus: 4, memoryGiB: 16 },
  diskGiB: 50,
  image: "ubuntu-24.04",
  userData: USER_DATA,
  userDataHash: "hash",
  network,
  ...over,
});
const instances = (resource: string) =>
  h.emulator.inventory({ tags: resourceTags(h.cluster, resource) }).filter((i) => i.type === "instance");
const ec2 = async () => (await h.container().resolve(AwsClients).ec2()) as EC2;

describe("AwsNodeService", () => {
  it("launches one instance as specified: type from size, IMDSv2, encrypted gp3 root, tags, subnet, group", async () => {
    const svc = h.container().resolve(NodeService);
    const node = await svc.create(spec(), h.ctx("node-0"));
    expect(node).toMatchObject({
      name: "k3s-nods-n0",
      zone: ZONES[0],
      status: "running",
      instanceType: "m6i.xlarge",
    });
    expect(node.privateIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const out = await (await ec2()).describeInstances({ InstanceIds: [node.id] });
    const i = out.Reservations?.[0]?.Instances?.[0];
    expect(i?.MetadataOptions).toMatchObject({ HttpTokens: "required", InstanceMetadataTags: "enabled" });
    expect(i?.SubnetId).toBe(network.subnets[0]?.id);
    expect(i?.SecurityGroups?.map((g) => g.GroupId)).toEqual([network.groups.nodes]);
    expect(i?.ImageId).toMatch(/^ami-/);
    const tags = Object.fromEntries((i?.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({ ...resourceTags(h.cluster, "node-0"), Name: "k3s-nods-n0" });
    const volumeId = i?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId;
    expect(volumeId).toBeTruthy();
  });

  it("is idempotent through the ClientToken, including from a fresh process", async () => {
    const first = await h
      .container()
      .resolve(NodeService)
      .create(spec({ index: 1 }), h.ctx("node-1"));
    const again = await h
      .container()
      .resolve(NodeService)
      .create(spec({ index: 1 }), h.ctx("node-1"));
    expect(again.id).toBe(first.id);
    expect(instances("node-1").map((i) => i.id)).toEqual([first.id]);
  });

  it("uses the instance type given instead of the size, and the image given", async () => {
    const svc = h.container({ instanceType: "c6i.large" }).resolve(NodeService);
    const node = await svc.create(spec({ index: 2, zone: ZONES[1] }), h.ctx("node-2"));
    expect(node.instanceType).toBe("c6i.large");
    expect(node.zone).toBe(ZONES[1]);
    const explicit = await svc.create(spec({ index: 3, instanceType: "m6i.large" }), h.ctx("node-3"));
    expect(explicit.instanceType).toBe("m6i.large");
  });

  it("sizes and encrypts the root volume of an AMI given by id, whatever its root device name", async () => {
    const client = await ec2();
    const debian = (
      await client.describeImages({ Filters: [{ Name: "name", Values: ["debian-12-amd64-*"] }] })
    ).Images?.[0];
    expect(debian?.RootDeviceName).toBe("/dev/xvda");
    const node = await h
      .container()
      .resolve(NodeService)
      .create(spec({ index: 7, image: debian!.ImageId! }), h.ctx("node-7"));
    const i = (await client.describeInstances({ InstanceIds: [node.id] })).Reservations?.[0]?.Instances?.[0];
    // One volume, the root: a mapping for /dev/sda1 would have added a data volume beside it instead.
    expect(i?.BlockDeviceMappings?.map((b) => b.DeviceName)).toEqual(["/dev/xvda"]);
    await h.container().resolve(NodeService).delete(node, h.ctx("node-7"));
  });

  it("publishes values as k3sinfra: instance tags", async () => {
    const svc = h.container().resolve(NodeService);
    const node = await svc.create(spec(), h.ctx("node-0"));
    await svc.publish!(
      node,
      { "datastore-host": "db.internal", "lb-hostname": "lb.example" },
      h.ctx("node-0"),
    );
    const out = await (await ec2()).describeInstances({ InstanceIds: [node.id] });
    const tags = Object.fromEntries(
      (out.Reservations?.[0]?.Instances?.[0]?.Tags ?? []).map((t) => [t.Key, t.Value]),
    );
    expect(tags).toMatchObject({
      "k3sinfra:datastore-host": "db.internal",
      "k3sinfra:lb-hostname": "lb.example",
    });
    await expect(svc.publish!(node, { "bad key": "x" }, h.ctx("node-0"))).rejects.toThrow(/tag keys/);
  });

  it("finds nodes by tags, reads them, and deletes them (twice)", async () => {
    const svc = h.container().resolve(NodeService);
    const node = await svc.create(spec({ index: 4 }), h.ctx("node-4"));
    const found = await svc.findByTags(resourceTags(h.cluster, "node-4"), h.ctx("node-4"));
    expect(found.map((n) => n.id)).toEqual([node.id]);
    expect((await svc.findByTags({ "k3sinfra:cluster": h.cluster }, h.ctx("x"))).length).toBeGreaterThan(1);
    expect(await svc.findByTags(resourceTags("nobody", "node-4"), h.ctx("node-4"))).toEqual([]);
    expect(await svc.read(node, h.ctx("node-4"))).toMatchObject({ id: node.id, status: "running" });
    await svc.delete(node, h.ctx("node-4"));
    await svc.delete(node, h.ctx("node-4"));
    expect(await svc.read(node, h.ctx("node-4"))).toBeUndefined();
    expect(instances("node-4")).toEqual([]);
    expect(await svc.findByTags(resourceTags(h.cluster, "node-4"), h.ctx("node-4"))).toEqual([]);
  });

  it("launches a new instance when the token's instance was terminated behind its back", async () => {
    const svc = h.container().resolve(NodeService);
    const node = await svc.create(spec({ index: 5 }), h.ctx("node-5"));
    await (await ec2()).terminateInstances({ InstanceIds: [node.id] });
    // Shutting down or terminated: gone either way, it cannot come back.
    expect(await svc.read(node, h.ctx("node-5"))).toBeUndefined();
    await svc.delete(node, h.ctx("node-5"));
    const replacement = await svc.create(spec({ index: 5 }), h.ctx("node-5"));
    expect(replacement.id).not.toBe(node.id);
    expect(replacement.status).toBe("running");
    expect(instances("node-5").map((i) => i.id)).toEqual([replacement.id]);
    // And that replacement is itself adopted on a repeat.
    expect((await svc.create(spec({ index: 5 }), h.ctx("node-5"))).id).toBe(replacement.id);
  });

  it("never puts user data into errors", async () => {
    const svc = h.container().resolve(NodeService);
    const error = await svc
      .create(spec({ index: 6, image: "ami-00000000000000000" }), h.ctx("node-6"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).not.toContain("s3cr3t-token");
    expect(JSON.stringify(error)).not.toContain("s3cr3t-token");
  });
});
