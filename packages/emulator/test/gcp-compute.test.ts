import {
  FirewallsClient,
  InstancesClient,
  NetworksClient,
  ZoneOperationsClient,
} from "@google-cloud/compute";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { clientOptions, NO_RETRY, PROJECT, protoFields, raw, startGcp } from "./gcp-helpers.js";

const ZONE = "us-central1-a";
const instance = (name: string) => ({
  name,
  machineType: `zones/${ZONE}/machineTypes/e2-standard-2`,
  labels: { "k3sinfra-cluster": "t" },
  disks: [
    {
      boot: true,
      autoDelete: true,
      initializeParams: {
        diskSizeGb: "30",
        sourceImage: "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
      },
    },
  ],
  networkInterfaces: [{ network: "global/networks/default", accessConfigs: [{ type: "ONE_TO_ONE_NAT" }] }],
});

describe("gcp emulator: compute", () => {
  let e: Emulator;
  let instances: InstancesClient;
  let ops: ZoneOperationsClient;
  // A clock the test advances, so operation states never race the wall clock.
  let now = 1_700_000_000_000;
  const advance = (ms: number) => {
    now += ms;
  };
  beforeAll(async () => {
    e = await startGcp({ timeScale: 1, clock: () => now });
    instances = new InstancesClient(clientOptions(e));
    ops = new ZoneOperationsClient(clientOptions(e));
  });
  afterAll(() => e.stop());

  it("an insert answers with a zonal operation that goes PENDING → RUNNING → DONE, and the instance runs", async () => {
    const [lro] = await instances.insert(
      {
        project: PROJECT,
        zone: ZONE,
        requestId: "6f1c7d52-3a0b-4c1e-9d2f-0a1b2c3d4e5f",
        instanceResource: instance("vm-1"),
      },
      NO_RETRY,
    );
    const op = lro.latestResponse as unknown as { name: string; status: string; zone: string };
    expect(op.status).toBe("PENDING");
    expect(op.zone).toBe(`https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/${ZONE}`);
    advance(1_000);
    expect((await ops.get({ project: PROJECT, zone: ZONE, operation: op.name }, NO_RETRY))[0].status).toBe(
      "RUNNING",
    );
    const [mid] = await instances.get({ project: PROJECT, zone: ZONE, instance: "vm-1" }, NO_RETRY);
    expect(mid.status).toBe("PROVISIONING");
    advance(20_000);
    expect((await ops.wait({ project: PROJECT, zone: ZONE, operation: op.name }, NO_RETRY))[0].status).toBe(
      "DONE",
    );
    const [vm] = await instances.get({ project: PROJECT, zone: ZONE, instance: "vm-1" }, NO_RETRY);
    expect(vm.status).toBe("RUNNING");
    expect(vm.networkInterfaces?.[0]?.networkIP).toMatch(/^10\.128\.0\.\d+$/);
    expect(vm.networkInterfaces?.[0]?.network).toBe(
      `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/networks/default`,
    );
  });

  it("the same requestId returns the first operation; another one for the same name is 409 alreadyExists", async () => {
    const again = await instances.insert(
      {
        project: PROJECT,
        zone: ZONE,
        requestId: "6f1c7d52-3a0b-4c1e-9d2f-0a1b2c3d4e5f",
        instanceResource: instance("vm-1"),
      },
      NO_RETRY,
    );
    expect((again[0].latestResponse as unknown as { operationType: string }).operationType).toBe("insert");
    await expect(
      instances.insert({ project: PROJECT, zone: ZONE, instanceResource: instance("vm-1") }, NO_RETRY),
    ).rejects.toMatchObject({ httpStatusCode: 409 });
  });

  it("refuses names that are not RFC 1035 labels of at most 63 characters", async () => {
    for (const name of ["Upper", `a${"b".repeat(63)}`, "ends-", "1digit"]) {
      const res = await raw(
        e,
        "POST",
        `/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances`,
        instance(name),
      );
      expect(res.status, name).toBe(400);
    }
  });

  it("a reference to a missing network is 404; a network in use refuses deletion", async () => {
    const firewalls = new FirewallsClient(clientOptions(e));
    await expect(
      firewalls.insert(
        {
          project: PROJECT,
          firewallResource: {
            name: "fw",
            network: "global/networks/nope",
            allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
          },
        },
        NO_RETRY,
      ),
    ).rejects.toMatchObject({ httpStatusCode: 404 });
    const networks = new NetworksClient(clientOptions(e));
    const res = await networks
      .delete({ project: PROJECT, network: "default" }, NO_RETRY)
      .catch((err: unknown) => err);
    expect(res).toMatchObject({ httpStatusCode: 400 });
    expect(String((res as Error).message)).toMatch(/already being used by/);
  });

  it("a deleted instance reports STOPPING until its operation is done, then 404", async () => {
    const [lro] = await instances.delete({ project: PROJECT, zone: ZONE, instance: "vm-1" }, NO_RETRY);
    expect((lro.latestResponse as unknown as { operationType: string }).operationType).toBe("delete");
    expect(
      (await instances.get({ project: PROJECT, zone: ZONE, instance: "vm-1" }, NO_RETRY))[0].status,
    ).toBe("STOPPING");
    advance(60_000);
    await expect(
      instances.get({ project: PROJECT, zone: ZONE, instance: "vm-1" }, NO_RETRY),
    ).rejects.toMatchObject({
      httpStatusCode: 404,
    });
  });

  it("an injected throttle is a 429 rateLimitExceeded the client reports as RESOURCE_EXHAUSTED", async () => {
    e.addFault({ cloud: "gcp", kind: "throttle", atCall: 1, operation: "instances.get" });
    await expect(
      instances.get({ project: PROJECT, zone: ZONE, instance: "x" }, NO_RETRY),
    ).rejects.toMatchObject({
      code: 8,
    });
    e.clearFaults();
  });

  it("answers only with fields the package's protos define (Instance, Operation, Firewall, Network)", async () => {
    const fields = protoFields("@google-cloud/compute", ["google", "cloud", "compute", "v1"]);
    await raw(e, "POST", `/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances`, instance("vm-2"));
    const op = await raw(e, "POST", `/compute/v1/projects/${PROJECT}/global/firewalls`, {
      name: "fw-ok",
      allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
      sourceRanges: ["10.0.0.0/8"],
    });
    const checks: [string, Record<string, unknown>][] = [
      ["Operation", op.json],
      [
        "Instance",
        (await raw(e, "GET", `/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances/vm-2`)).json,
      ],
      ["Firewall", (await raw(e, "GET", `/compute/v1/projects/${PROJECT}/global/firewalls/fw-ok`)).json],
      ["Network", (await raw(e, "GET", `/compute/v1/projects/${PROJECT}/global/networks/default`)).json],
    ];
    for (const [message, body] of checks) {
      const known = fields(message);
      expect(
        Object.keys(body).filter((k) => !known.has(k)),
        message,
      ).toEqual([]);
    }
  });
});
