import { EC2 } from "@aws-sdk/client-ec2";
import { Route53 } from "@aws-sdk/client-route-53";
import { type BackDoorRecord, type ContractBackDoors, runProviderContract } from "@k3sinfra/core/testing";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, it } from "vitest";
import { aws } from "../src/index.js";
import { CERT, REGION, ZONES } from "./helpers.js";

// One emulator for the whole suite, started on first use: the adoption cases build a second set of services
// (a "fresh process") that must see what the first one made.
let emulator: Promise<Emulator> | undefined;
const shared = () => {
  emulator ??= startEmulator({
    timeScale: 0.001,
    seed: 11,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    log: () => undefined,
  });
  return emulator;
};
const OWNERSHIP = new Set([
  "k3sinfra:cluster",
  "k3sinfra:resource",
  "k3sinfra:managed-by",
  "k3sinfra:cluster-id",
]);
const undot = (name: string) => name.replace(/\.$/, "").toLowerCase();

/**
 * The back doors: the emulator's own inventory, and the raw SDK for what the inventory does not show
 * (record values, stopping an instance, an extra rule), never the provider under test.
 */
const backDoors = (e: Emulator): ContractBackDoors => {
  const config = {
    region: REGION,
    endpoint: e.endpoints.aws,
    credentials: e.credentials.aws,
    maxAttempts: 1,
  };
  const ec2 = new EC2(config);
  const route53 = new Route53(config);
  // The inventory lists an RDS instance by its identifier, the provider by its ARN (`…:db:<identifier>`).
  const item = (id: string) =>
    e.inventory().find((i) => i.id === id || (i.type === "db-instance" && id.endsWith(`:db:${i.id}`)));
  return {
    owned: async (tags) => e.inventory({ tags: { ...tags } }).map((i) => i.id),
    status: async (id) => item(id)?.state,
    async record(state): Promise<BackDoorRecord | undefined> {
      const name = undot(state.hostname);
      const out = await route53.listResourceRecordSets({ HostedZoneId: state.zoneId, StartRecordName: name });
      const set = (out.ResourceRecordSets ?? []).find(
        (s) => undot(s.Name ?? "") === name && (s.Type === "A" || s.Type === "CNAME"),
      );
      if (!set) return undefined;
      const change = e
        .inventory()
        .find(
          (i) =>
            i.type === "resource-record-set" && i.zoneId === state.zoneId && undot(i.name ?? "") === name,
        );
      return {
        type: set.AliasTarget ? "ALIAS" : (set.Type ?? ""),
        values: set.AliasTarget
          ? [undot(set.AliasTarget.DNSName ?? "")]
          : (set.ResourceRecords ?? []).map((r) => undot(r.Value ?? "")),
        inSync: change?.state === "INSYNC",
      };
    },
    async targets(lb) {
      const tags = item(lb.id)?.tags ?? {};
      const ids = e
        .inventory({
          tags: {
            "k3sinfra:cluster": tags["k3sinfra:cluster"] ?? "",
            "k3sinfra:resource": tags["k3sinfra:resource"] ?? "",
          },
        })
        .filter((i) => i.type === "target" && i.state !== "draining")
        .map((i) => i.id);
      return [...new Set(ids)];
    },
    async published(node) {
      const tags = item(node.id)?.tags ?? {};
      return Object.fromEntries(
        Object.entries(tags)
          .filter(([k]) => k.startsWith("k3sinfra:") && !OWNERSHIP.has(k))
          .map(([k, v]) => [k.slice("k3sinfra:".length), v]),
      );
    },
    drift: {
      async stopNode(node) {
        await ec2.stopInstances({ InstanceIds: [node.id] });
      },
      async addIngressRule(network) {
        await ec2.authorizeSecurityGroupIngress({
          GroupId: network.groups.nodes,
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
          ],
        });
      },
    },
  };
};

/** The back doors, each reaching the emulator once it is up. */
let doors: Promise<ContractBackDoors> | undefined;
const door = () => {
  doors ??= shared().then(backDoors);
  return doors;
};

runProviderContract({
  describe,
  it,
  beforeAll,
  afterAll,
  name: "aws (emulator)",
  provider: aws,
  // A final snapshot is kept on purpose and carries the cluster's tags; the contract checks that nothing
  // tagged is left, so skip it here (datastore.test.ts covers the snapshot).
  options: { finalSnapshot: false },
  env: async () => {
    const e = await shared();
    return {
      AWS_ENDPOINT_URL: e.endpoints.aws ?? "",
      AWS_ACCESS_KEY_ID: e.credentials.aws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: e.credentials.aws.secretAccessKey,
    };
  },
  region: REGION,
  zones: [...ZONES],
  dns: { zone: "example.com" },
  // L7 (with this certificate) and A, CNAME and ALIAS records follow from the provider's capabilities.
  certificate: CERT,
  poll: { minDelayMs: 5, maxDelayMs: 50 },
  owned: async (tags) => (await door()).owned(tags),
  status: async (id) => (await door()).status?.(id),
  record: async (state) => (await door()).record?.(state),
  targets: async (lb) => (await door()).targets?.(lb) ?? [],
  published: async (node) => (await door()).published?.(node) ?? {},
  drift: {
    stopNode: async (node) => (await door()).drift?.stopNode?.(node),
    addIngressRule: async (network) => (await door()).drift?.addIngressRule?.(network),
  },
  close: async () => (await emulator)?.stop(),
});
