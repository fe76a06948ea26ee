import {
  AddressesClient,
  ForwardingRulesClient,
  InstanceGroupsClient,
  InstancesClient,
  RegionBackendServicesClient,
  RegionHealthChecksClient,
} from "@google-cloud/compute";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { clientOptions, NO_RETRY, PROJECT, startGcp } from "./gcp-helpers.js";

const REGION = "us-central1";
const ZONE = "us-central1-a";
const project = PROJECT;

describe("gcp emulator: passthrough load balancer", () => {
  let e: Emulator;
  let now = 1_700_000_000_000;
  let bss: RegionBackendServicesClient;
  let hcs: RegionHealthChecksClient;
  beforeAll(async () => {
    e = await startGcp({ timeScale: 1, clock: () => now, bootTimeMs: 150_000 });
    const o = clientOptions(e);
    bss = new RegionBackendServicesClient(o);
    hcs = new RegionHealthChecksClient(o);
    await new InstancesClient(o).insert(
      {
        project,
        zone: ZONE,
        instanceResource: {
          name: "vm",
          machineType: `zones/${ZONE}/machineTypes/e2-standard-2`,
          disks: [
            {
              boot: true,
              initializeParams: {
                sourceImage: "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
              },
            },
          ],
          networkInterfaces: [{ network: "global/networks/default" }],
          // A k3sinfra server (its user data runs the bootstrap): it answers checks once K3s is ready.
          metadata: {
            items: [
              {
                key: "user-data",
                value: "#cloud-config\nruncmd:\n  - [/usr/local/sbin/k3sinfra-bootstrap]\n",
              },
            ],
          },
        },
      },
      NO_RETRY,
    );
    await new AddressesClient(o).insert(
      { project, region: REGION, addressResource: { name: "ip" } },
      NO_RETRY,
    );
    await hcs.insert(
      {
        project,
        region: REGION,
        healthCheckResource: { name: "hc", type: "TCP", tcpHealthCheck: { port: 80 } },
      },
      NO_RETRY,
    );
    const groups = new InstanceGroupsClient(o);
    await groups.insert({ project, zone: ZONE, instanceGroupResource: { name: "ig" } }, NO_RETRY);
    await groups.addInstances(
      {
        project,
        zone: ZONE,
        instanceGroup: "ig",
        instanceGroupsAddInstancesRequestResource: {
          instances: [{ instance: `zones/${ZONE}/instances/vm` }],
        },
      },
      NO_RETRY,
    );
    await bss.insert(
      {
        project,
        region: REGION,
        backendServiceResource: {
          name: "bs",
          loadBalancingScheme: "EXTERNAL",
          protocol: "TCP",
          healthChecks: [`regions/${REGION}/healthChecks/hc`],
          backends: [{ group: `zones/${ZONE}/instanceGroups/ig`, balancingMode: "CONNECTION" }],
        },
      },
      NO_RETRY,
    );
    await new ForwardingRulesClient(o).insert(
      {
        project,
        region: REGION,
        forwardingRuleResource: {
          name: "fr-443",
          IPAddress: `regions/${REGION}/addresses/ip`,
          ports: ["443"],
          loadBalancingScheme: "EXTERNAL",
          backendService: `regions/${REGION}/backendServices/bs`,
        },
      },
      NO_RETRY,
    );
  });
  afterAll(() => e.stop());

  const health = async () =>
    (
      await bss.getHealth(
        {
          project,
          region: REGION,
          backendService: "bs",
          resourceGroupReferenceResource: { group: `zones/${ZONE}/instanceGroups/ig` },
        },
        NO_RETRY,
      )
    )[0].healthStatus?.map((s) => s.healthState);

  it("a member is UNHEALTHY while its server boots, HEALTHY once K3s and Traefik would answer", async () => {
    now += 20_000;
    expect(await health()).toEqual(["UNHEALTHY"]);
    now += 150_000;
    expect(await health()).toEqual(["HEALTHY"]);
    e.setTargetHealth(`projects/${project}/zones/${ZONE}/instances/vm`, "unhealthy");
    expect(await health()).toEqual(["UNHEALTHY"]);
    e.setTargetHealth("vm", "auto");
    expect(await health()).toEqual(["HEALTHY"]);
  });

  it("the address a rule uses is IN_USE; a health check a backend service uses refuses deletion", async () => {
    const [address] = await new AddressesClient(clientOptions(e)).get(
      { project, region: REGION, address: "ip" },
      NO_RETRY,
    );
    expect(address.status).toBe("IN_USE");
    await expect(hcs.delete({ project, region: REGION, healthCheck: "hc" }, NO_RETRY)).rejects.toMatchObject({
      httpStatusCode: 400,
    });
  });
});
